import { afterEach, describe, expect, it } from "vitest";
import { validateRuleFileText } from "@keepwarm/rules";
import { DAY_MS } from "@keepwarm/store";
import { applyRuleSet, isHeldOut, variantComparison, variantOf } from "../src/index";
import { addCustomer, freshStore, NOW as SWEEP_NOW, sweepAt } from "./sweep-fixtures";
import { ago, customer, freshStatsStore, nudge, PERIOD, touch } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const AB_RULES = {
  rules: [
    {
      id: "quiet-ab",
      name: "Quiet 30+ days, two messages",
      conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
      nudge: {
        message: "A: {{customer.name}} has gone quiet",
        action: "Call them.",
        variantB: { message: "B: {{customer.name}} misses you ({{explanation}})", action: "Send a short email." },
        holdoutPercent: 20,
      },
    },
  ],
};

describe("A/B versions of a nudge", () => {
  it("assigns half the customers to each version, stably, independently of the holdout group", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `C-${i}`);
    const b = ids.filter((id) => variantOf("quiet-ab", id) === "b");
    expect(Math.abs(b.length / ids.length - 0.5)).toBeLessThan(0.015);
    for (const id of ids.slice(0, 100)) expect(variantOf("quiet-ab", id)).toBe(variantOf("quiet-ab", id));
    // Another rule draws its own split.
    expect(ids.filter((id) => variantOf("other", id) !== variantOf("quiet-ab", id)).length / ids.length).toBeGreaterThan(0.45);
    const held = ids.filter((id) => isHeldOut("quiet-ab", id, 20));
    expect(Math.abs(held.filter((id) => variantOf("quiet-ab", id) === "b").length / held.length - 0.5)).toBeLessThan(0.035);
  });

  it("validates variantB like the message: unknown keys and template errors name their path", () => {
    const bad = structuredClone(AB_RULES) as { rules: Array<{ nudge: Record<string, unknown> }> };
    (bad.rules[0] as { nudge: Record<string, unknown> }).nudge.variantB = { mesage: "x", message: "{{customer.nmae}}" };
    const result = validateRuleFileText(JSON.stringify(bad));
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(
      expect.arrayContaining([
        'rules[0].nudge.variantB.mesage: unknown key "mesage" (did you mean "message"?)',
        expect.stringMatching(/^rules\[0\]\.nudge\.variantB\.message: .*customer\.nmae/),
      ]),
    );
  });

  it("a sweep records each nudge's version and writes that version's message and action", async () => {
    const fixture = await freshStore();
    close = fixture.close;
    const { store } = fixture;
    const ids = Array.from({ length: 12 }, (_, i) => `Q-${i}`);
    for (const id of ids) await addCustomer(store, { id, name: `Quiet ${id}`, since: SWEEP_NOW - 60 * DAY_MS });
    await applyRuleSet(store, JSON.stringify(AB_RULES), { author: "test", source: "test" });
    await sweepAt(store, SWEEP_NOW);
    const rows = await store.db
      .selectFrom("nudges as n")
      .innerJoin("customers as c", "c.id", "n.customer_id")
      .select(["c.external_id as id", "n.variant", "n.message", "n.action"])
      .execute();
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      const version = variantOf("quiet-ab", row.id);
      expect(row.variant).toBe(version);
      expect(row.message.startsWith(version === "a" ? `A: Quiet ${row.id}` : `B: Quiet ${row.id} misses you (`)).toBe(true);
      expect(row.action).toBe(version === "a" ? "Call them." : "Send a short email.");
    }
    expect(new Set(rows.map((r) => r.variant))).toEqual(new Set(["a", "b"]));
  });

  it("stats compares the versions' touched-within-7-days rates with the holdouts' statistics", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    let n = 0;
    const add = async (variant: "a" | "b", touched: boolean, options: { heldOut?: boolean; createdAt?: number } = {}) => {
      const id = await customer(store, { id: `V${n++}`, since: ago(400) });
      const createdAt = options.createdAt ?? ago(30);
      if (touched) await touch(store, id, createdAt + 3 * DAY_MS);
      await nudge(store, { ruleId: "quiet-ab", customerId: id, createdAt, variant, heldOut: options.heldOut ?? false, deliveredAt: createdAt });
    };
    // Version a: 24 of 40 touched within 7 days (60%); version b: 12 of 40 (30%).
    for (let i = 0; i < 40; i++) await add("a", i < 24);
    for (let i = 0; i < 40; i++) await add("b", i < 12);
    // Not counted in the rates: held-out nudges (nobody read them), and nudges too young to have a 7-day outcome.
    for (let i = 0; i < 5; i++) await add("b", true, { heldOut: true });
    await add("a", false, { createdAt: ago(3) });
    const [comparison] = await variantComparison(store, PERIOD);
    expect(comparison?.ruleId).toBe("quiet-ab");
    expect(comparison?.nudges).toEqual({ a: 41, b: 40 });
    expect(comparison?.touched7.a).toMatchObject({ n: 40, yes: 24, share: 0.6 });
    expect(comparison?.touched7.b).toMatchObject({ n: 40, yes: 12, share: 0.3 });
    // Pooled z = 0.3 / √(0.45 · 0.55 · 2/40) = 2.697 → p = 0.007; the interval is Newcombe's hybrid score
    // (method 10) from the two Wilson intervals, as for holdouts: +8 to +48 points (Wald would say +9 to +51).
    expect(comparison?.touched7.test?.p).toBeCloseTo(0.007, 3);
    expect(comparison?.touched7.verdict).toBe(
      "touched within 7 days: higher for version a: 60% of version a vs 30% of version b (+30 points, 95% CI +8 to +48; p = 0.007)",
    );
  });
});
