import { openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBook } from "../../../packages/core/test/stats-fixture";

const tmp = tempDir();
let db: string;
// The hand-computed book of packages/core/test/stats-kpis.test.ts, period (NOW − 90 days, NOW].
const PERIOD_ARGS = ["--since", "2026-04-01T12:00:00Z", "--until", "2026-06-30T12:00:00Z"];

beforeAll(async () => {
  db = await freshDatabase(tmp, "stats.db");
  const store = await openStore(db);
  await seedBook(store);
  await store.close();
});
afterAll(() => tmp.cleanup());

describe("keepwarm stats", () => {
  it("--json prints every KPI of the period as one JSON document", async () => {
    const result = await runCli(["stats", ...PERIOD_ARGS, "--json"], { KEEPWARM_DB: db });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout);
    expect(stats.retention.total).toMatchObject({ atStart: 4, churned: 1, retentionRate: 0.75 });
    expect(stats.nps.now).toMatchObject({ nps: 33.3, responses: 3 });
    expect(stats.nps.byMonth.map((m: { nps: number | null }) => m.nps)).toEqual([null, 0, -33.3]);
    expect(stats.touchCadence).toMatchObject({ customers: 4, quiet: 2 });
    expect(stats.loyalty).toEqual({ frequentBuyers: 2, enrolled: 1, enrollmentRate: 0.5 });
    expect(stats.funnel[0]).toMatchObject({ ruleId: "r1", nudged: 3, resolvedByTouch: 2, medianDaysToTouch: 4 });
    expect(stats.holdouts[0].touched7.verdict).toMatch(/^touched within 7 days: not enough data yet/);
  });

  it("--segment narrows every KPI to one segment", async () => {
    const result = await runCli(["stats", ...PERIOD_ARGS, "--segment", "enterprise", "--json"], { KEEPWARM_DB: db });
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout);
    // Enterprise: A and B. NPS now: A's 10 (B churned) → +100.
    expect(stats.retention.total).toMatchObject({ atStart: 2, churned: 1, retentionRate: 0.5 });
    expect(stats.nps.now).toMatchObject({ nps: 100, responses: 1 });
  });

  it("prints a readable summary without --json", async () => {
    const result = await runCli(["stats", ...PERIOD_ARGS], { KEEPWARM_DB: db });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Retention   75.0% ((4 at the end − 1 new) ÷ 4 at the start; 1 churned = 25.0%)");
    expect(result.stdout).toContain("NPS now     +33.3 (3 answers in the last 90 days");
    expect(result.stdout).toContain("Quiet       2 of 4 customers with no touch for 30+ days (1 never touched)");
    expect(result.stdout).toContain("r1: 3 nudged + 1 held out → 3 delivered → 2 resolved by a touch");
  });

  it("rejects a bad date, an unknown segment or a reversed period with one line and exit 1", async () => {
    for (const [args, message] of [
      [["--since", "yesterday-ish"], 'keepwarm: error: --since "yesterday-ish" is not a date (YYYY-MM-DD)\n'],
      [["--segment", "enterprize"], 'keepwarm: error: unknown segment "enterprize"; segments: enterprise, smb\n'],
      [["--since", "2026-07-01", "--until", "2026-06-01"], "keepwarm: error: --since must be before --until\n"],
    ] as const) {
      const result = await runCli(["stats", ...args], { KEEPWARM_DB: db });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(message);
      expect(result.stdout).toBe("");
    }
  });
});
