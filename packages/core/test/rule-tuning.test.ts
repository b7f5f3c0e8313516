import { afterEach, describe, expect, it } from "vitest";
import { validateRuleFileText } from "@keepwarm/rules";
import { diffRuleFiles, suggestRuleThreshold } from "../src/index";
import { freshStatsStore, NOW, UTC } from "./stats-fixture";
import { seedTuningHistory, TUNING_RULES } from "./tuning-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function history() {
  const fixture = await freshStatsStore();
  close = fixture.close;
  await seedTuningHistory(fixture.store);
  return fixture.store;
}

describe("rule tuning suggestions", () => {
  it("backtests stricter thresholds against the current rule and the numbers match a hand computation", async () => {
    const store = await history();
    const suggestion = await suggestRuleThreshold(store, "quiet-smb", { calendar: UTC, days: 56, now: NOW });
    expect(suggestion).toMatchObject({ from: "2026-05-05", to: "2026-06-29", days: 56 });
    expect(suggestion.threshold).toEqual({ path: "conditions.all[1]", fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 });
    // ≥ 30: S 05-05 (stays live); Q 05-05 (touched 05-20: 15 days later, resolved; cooldown to 06-03), Q again 06-19;
    //   R 06-09 (touched 06-12: within 7 days); P 06-19 (churned 06-25). 5 nudges in 8 weeks, 1 touched within 7 days, P churned.
    expect(suggestion.current).toEqual({
      value: 30,
      nudges: 5,
      nudgesPerWeek: 0.625,
      touchedWithin7Days: 1,
      touchedShare: 0.2,
      churnedCustomers: ["P"],
      missedChurned: [],
    });
    // Steps of 30 × 25%, 50%, 100%: ≥ 38, ≥ 45, ≥ 60.
    // ≥ 38: S 05-05; Q 05-09 (touch 05-20: 11 days), Q 06-27; R reset by 06-12 before 06-17; P would match 06-27, churned by then.
    // ≥ 45: S 05-05; Q 05-16 (touch 05-20: within 7 days). ≥ 60: S only (Q is touched on 05-20, at 48 days).
    expect(suggestion.candidates).toEqual([
      { value: 38, nudges: 3, nudgesPerWeek: 0.375, touchedWithin7Days: 0, touchedShare: 0, churnedCustomers: [], missedChurned: ["P"] },
      { value: 45, nudges: 2, nudgesPerWeek: 0.25, touchedWithin7Days: 1, touchedShare: 0.5, churnedCustomers: [], missedChurned: ["P"] },
      { value: 60, nudges: 1, nudgesPerWeek: 0.125, touchedWithin7Days: 0, touchedShare: 0, churnedCustomers: [], missedChurned: ["P"] },
    ]);
    // All three cut the nudges by 25%+; ≥ 45 is the one most often followed by a touch.
    expect(suggestion.proposed?.value).toBe(45);
  });

  it("writes the proposal as the active rule file with the one threshold changed, valid and diffable", async () => {
    const store = await history();
    const suggestion = await suggestRuleThreshold(store, "quiet-smb", { calendar: UTC, days: 56, now: NOW });
    const proposal = validateRuleFileText(suggestion.ruleFileText ?? "");
    expect(proposal.valid).toBe(true);
    if (!proposal.valid) return;
    const before = validateRuleFileText(JSON.stringify(TUNING_RULES));
    if (!before.valid) throw new Error("fixture rules are invalid");
    const diff = diffRuleFiles(before.ruleFile, proposal.ruleFile);
    expect(diff.rules).toEqual([
      expect.objectContaining({ ruleId: "quiet-smb", status: "changed", changes: [{ path: "conditions.all[1].value", before: 30, after: 45 }] }),
    ]);
  });

  it("--value tries one given threshold; an unknown rule or a rule without a threshold is a one-line user error", async () => {
    const store = await history();
    const one = await suggestRuleThreshold(store, "quiet-smb", { calendar: UTC, days: 56, now: NOW, value: 38 });
    expect(one.candidates.map((c) => c.value)).toEqual([38]);
    await expect(suggestRuleThreshold(store, "quiet-smbb", { calendar: UTC, days: 56, now: NOW })).rejects.toThrow(
      'no rule "quiet-smbb" in the active rules (v1) (did you mean "quiet-smb"?)',
    );
    await expect(suggestRuleThreshold(store, "quiet-smb", { calendar: UTC, days: 56, now: NOW, condition: "conditions.all[0]" })).rejects.toThrow(
      'rule "quiet-smb" has no threshold at conditions.all[0]; thresholds: conditions.all[1]',
    );
  });
});
