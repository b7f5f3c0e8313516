import { readFileSync } from "node:fs";
import { openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ago, nudge } from "../../../packages/core/test/stats-fixture";
import { seedTuningHistory } from "../../../packages/core/test/tuning-fixture";
import { runInProcess as runCli } from "./in-process";

const tmp = tempDir();
let db: string;
const PERIOD_ARGS = ["--since", "2026-04-01T12:00:00Z", "--until", "2026-06-30T12:00:00Z"];

beforeAll(async () => {
  db = await freshDatabase(tmp, "noise.db");
  const store = await openStore(db);
  await seedTuningHistory(store);
  // 20 past nudges of quiet-smb about customer S, 14 dismissed ("already in touch" ×9) and 6 resolved by a touch at once.
  const S = (await store.db.selectFrom("customers").select("id").where("external_id", "=", "S").executeTakeFirstOrThrow()).id;
  for (let i = 0; i < 20; i++) {
    const dismissed = i < 14;
    await nudge(store, {
      ruleId: "quiet-smb",
      customerId: S,
      createdAt: ago(80 - i),
      deliveredAt: ago(80 - i),
      status: dismissed ? "dismissed" : "expired",
      closeNote: dismissed && i < 9 ? "already in touch" : null,
    });
  }
  await store.close();
});
afterAll(() => tmp.cleanup());

describe("keepwarm rules noise and rules suggest", () => {
  it("rules noise flags the rule with its evidence; --json gives the figures and thresholds", async () => {
    const text = await runCli(["rules", "noise", ...PERIOD_ARGS], { KEEPWARM_DB: db });
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("⚠ quiet-smb: 20 settled of 20 nudged; noise 100% (dismissed 70%,");
    expect(text.stdout).toContain("    dismissed because: already in touch ×9, (no reason) ×5");
    expect(text.stdout).toContain("a stricter threshold, backtested: keepwarm rules suggest quiet-smb --out proposal.json");
    const json = await runCli(["rules", "noise", ...PERIOD_ARGS, "--json"], { KEEPWARM_DB: db });
    const report = JSON.parse(json.stdout);
    expect(report.thresholds).toMatchObject({ minSettled: 20, noiseShare: 0.5 });
    expect(report.rules[0]).toMatchObject({ ruleId: "quiet-smb", flagged: true, counts: { dismissed: 14, expiredUntouched: 6, noisy: 20 } });
    const stats = await runCli(["stats", ...PERIOD_ARGS], { KEEPWARM_DB: db });
    expect(stats.stdout).toContain("⚠ quiet-smb: 20 settled of 20 nudged");
  });

  it("rules suggest prints the backtest of each step, writes the proposal, and diff and apply take it from there", async () => {
    const out = tmp.file("proposal.json", "");
    const result = await runCli(["rules", "suggest", "quiet-smb", "--days", "56", "--as-of", "2026-06-30", "--out", out], { KEEPWARM_DB: db });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "quiet-smb (rules v1): daysSinceLastTouch greaterThanInclusive 30 at conditions.all[1], backtested over 56 days (2026-05-05 → 2026-06-29)",
    );
    expect(result.stdout).toContain("  now            5 nudges,   0.6/week; touched within 7 days 20%; later churned 1\n");
    expect(result.stdout).toContain("  → 45           2 nudges,   0.3/week; touched within 7 days 50%; later churned 0; misses 1 later churned (P)\n");
    expect(result.stdout).toContain("proposal: daysSinceLastTouch greaterThanInclusive 45 instead of 30");
    expect(JSON.parse(readFileSync(out, "utf8")).rules[0].conditions.all[1].value).toBe(45);

    const diff = await runCli(["rules", "diff", out], { KEEPWARM_DB: db });
    expect(diff.stdout).toContain("conditions.all[1].value: 30 → 45");
    const apply = await runCli(["rules", "apply", out, "--author", "ann"], { KEEPWARM_DB: db });
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("as rules version 2");
  });

  it("an unknown rule, a bad --value or a bad --days is one line and exit 1", async () => {
    for (const [args, message] of [
      [["quiet-smbb"], 'keepwarm: error: no rule "quiet-smbb" in the active rules (v2) (did you mean "quiet-smb"?)\n'],
      [["quiet-smb", "--value", "lots"], 'keepwarm: error: --value "lots" is not a number\n'],
      [["quiet-smb", "--days", "0"], 'keepwarm: error: --days must be a whole number from 1 to 365; got "0"\n'],
    ] as const) {
      const result = await runCli(["rules", "suggest", ...args], { KEEPWARM_DB: db });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(message);
      expect(result.stdout).toBe("");
    }
  });
});
