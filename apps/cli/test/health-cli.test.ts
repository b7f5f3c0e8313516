import { applyRuleSet } from "@keepwarm/core";
import { DAY_MS, openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const tmp = tempDir();
let db: string;
const NOW = Date.parse("2026-06-15T12:00:00Z");
const AS_OF = ["--as-of", "2026-06-15"];

// Ten customers nobody touches who churned 60 days ago, ten touched every 3 days who stayed:
// the score separates them perfectly.
beforeAll(async () => {
  db = await freshDatabase(tmp, "health.db");
  const store = await openStore(db);
  const since = NOW - 400 * DAY_MS;
  for (let i = 0; i < 20; i++) {
    const left = i < 10;
    const { id } = await store.db
      .insertInto("customers")
      .values({
        external_id: `C-${i}`,
        name: `Customer ${i}`,
        since_at: since,
        churned_at: left ? NOW - 60 * DAY_MS : null,
        attributes: "{}",
        loyalty_member: 0,
        created_at: since,
        updated_at: since,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (!left) {
      const touches = Array.from({ length: 67 }, (_, k) => NOW - (200 - 3 * k) * DAY_MS).map((at) => ({
        customer_id: id,
        kind: "call",
        occurred_at: at,
        logged_at: at,
        source: "import",
      }));
      await store.db.insertInto("touchpoints").values(touches).execute();
    }
  }
  const health = { default: { components: [{ name: "touch", fact: "daysSinceLastTouch", weight: 1, bands: [{ max: 14, score: 100 }, { score: 0 }] }] } };
  await applyRuleSet(store, JSON.stringify({ health, rules: [] }), { author: "test", source: "test", now: NOW });
  await store.close();
});
afterAll(() => tmp.cleanup());

describe("keepwarm health calibrate", () => {
  it("--json reports churn per grade, the AUC with its interval, and each component's AUC", async () => {
    const result = await runCli(["health", "calibrate", "--days", "120", ...AS_OF, "--resamples", "50", "--json"], { KEEPWARM_DB: db });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ snapshots: 5, observations: 100, churned: 50, horizonDays: 90, seed: 1, resamples: 50 });
    expect(report.score).toMatchObject({ auc: 1, interval: [1, 1] });
    expect(report.grades.map((g: { grade: string; churnRate: number | null }) => [g.grade, g.churnRate])).toEqual([
      ["A", 0],
      ["B", null],
      ["C", null],
      ["D", null],
      ["F", 1],
    ]);
    expect(report.components).toMatchObject([{ name: "touch", auc: 1 }]);
  });

  it("prints a readable report, and one line for bad input", async () => {
    const result = await runCli(["health", "calibrate", "--days", "120", ...AS_OF, "--resamples", "20"], { KEEPWARM_DB: db });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ROC AUC of the score: 1.00 (95 % CI 1.00–1.00): low scores do go with churn");
    expect(result.stdout).toContain("    F        50 snapshots      50 churned   100.0 %  (95 % CI 92.9 %–100.0 %)");
    expect(result.stdout).toContain("    touch                    AUC 1.00 (95 % CI 1.00–1.00)  (100 snapshots with a value)");
    for (const [args, message] of [
      [["calibrate", "--days", "60"], 'keepwarm: error: --days must be a whole number from 91 to 730; got "60"\n'],
      [["recalibrate"], 'keepwarm: error: unknown health subcommand "recalibrate"; did you mean "calibrate"? (see keepwarm health --help)\n'],
    ] as const) {
      const bad = await runCli(["health", ...args], { KEEPWARM_DB: db });
      expect(bad.code).toBe(1);
      expect(bad.stderr.startsWith(message)).toBe(true);
    }
  });
});
