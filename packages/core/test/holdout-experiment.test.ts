import { afterEach, describe, expect, it } from "vitest";
import { applyRuleSet, deliverToConsole, holdoutComparison, isHeldOut, runSweep, twoProportionTest, wilsonInterval } from "../src/index";
import { ago, customer, freshStatsStore, NOW, nudge, PERIOD, touch, UTC } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const ids = Array.from({ length: 10_000 }, (_, i) => `CUST-${String(i).padStart(5, "0")}`);

describe("holdout assignment", () => {
  it("holds out close to the percentage over 10,000 customers (within ±1.5 points)", () => {
    for (const percent of [5, 20, 50]) {
      const share = (ids.filter((id) => isHeldOut("no-contact", id, percent)).length / ids.length) * 100;
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(1.5);
    }
  });

  it("is stable: the same (rule, customer) always lands in the same group, in any order", () => {
    const first = ids.map((id) => isHeldOut("no-contact", id, 20));
    const reversed = [...ids]
      .reverse()
      .map((id) => isHeldOut("no-contact", id, 20))
      .reverse();
    expect(reversed).toEqual(first);
  });

  it("draws each rule's group independently, and holds nobody out at 0%", () => {
    const a = ids.filter((id) => isHeldOut("rule-a", id, 20));
    const b = new Set(ids.filter((id) => isHeldOut("rule-b", id, 20)));
    const both = a.filter((id) => b.has(id)).length;
    // Independent 20% draws overlap on about 4% of customers (400), not 20%.
    expect(both).toBeGreaterThan(250);
    expect(both).toBeLessThan(550);
    expect(ids.some((id) => isHeldOut("rule-a", id, 0))).toBe(false);
  });
});

describe("held-out nudges are never delivered", () => {
  it("are recorded by the sweep but get no outbox item and are not printed by console delivery", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    for (let i = 0; i < 200; i++) customer(store, { id: `Q-${i}`, since: ago(400), owner: "U0OWNER" });
    await applyRuleSet(
      store,
      JSON.stringify({
        rules: [
          {
            id: "quiet",
            name: "Quiet",
            conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
            nudge: { message: "{{customer.name}} is quiet", holdoutPercent: 30 },
          },
        ],
      }),
      { author: "test", source: "test" },
    );
    const report = await runSweep(store, { calendar: UTC, now: NOW });
    const expectedHeld = Array.from({ length: 200 }, (_, i) => `Q-${i}`).filter((id) => isHeldOut("quiet", id, 30));
    expect(report.created).toBe(200);
    expect(report.heldOut).toBe(expectedHeld.length);
    expect(expectedHeld.length).toBeGreaterThan(30);
    const outboxForHeld = store.sqlite.prepare("SELECT count(*) FROM outbox o JOIN nudges n ON n.id = o.nudge_id WHERE n.held_out = 1").pluck().get();
    expect(outboxForHeld).toBe(0);
    const lines: string[] = [];
    const result = await deliverToConsole(store, { write: (l) => lines.push(l), now: NOW });
    expect(result.delivered).toBe(200 - expectedHeld.length);
    const printed = lines.join("\n");
    for (const id of expectedHeld) expect(printed).not.toContain(`Customer ${id} `);
    expect(store.sqlite.prepare("SELECT count(*) FROM nudges WHERE held_out = 1 AND delivered_at IS NOT NULL").pluck().get()).toBe(0);
    // A second sweep and delivery still never deliver them.
    await runSweep(store, { calendar: UTC, now: NOW + 86_400_000 });
    await deliverToConsole(store, { write: () => {}, now: NOW + 86_400_000 });
    expect(store.sqlite.prepare("SELECT count(*) FROM nudges WHERE held_out = 1 AND delivered_at IS NOT NULL").pluck().get()).toBe(0);
  });
});

describe("holdout comparison statistics", () => {
  it("matches the hand-computed two-proportion z-test and Wilson intervals", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    // 40 nudged: 30 touched 3 days after the nudge. 40 held out: 10 touched after 3 days, 5 more after 10 days.
    for (let i = 0; i < 80; i++) {
      const held = i >= 40;
      const id = customer(store, { id: `H-${i}`, since: ago(400) });
      nudge(store, { ruleId: "h", customerId: id, createdAt: ago(20), heldOut: held, deliveredAt: held ? null : ago(20) });
      const k = i % 40;
      if ((!held && k < 30) || (held && k < 10)) touch(store, id, ago(17));
      else if (held && k < 15) touch(store, id, ago(10));
    }
    const [h] = holdoutComparison(store, PERIOD);
    // touched ≤ 7 days: 30/40 = 0.75 vs 10/40 = 0.25. Pooled p = 40/80 = 0.5,
    // se = √(0.5·0.5·(1/40 + 1/40)) = 0.111803 → z = 0.5 / 0.111803 = 4.4721, two-sided p ≈ 7.7e-6.
    expect(h?.touched7.nudged).toMatchObject({ n: 40, yes: 30, share: 0.75 });
    expect(h?.touched7.heldOut).toMatchObject({ n: 40, yes: 10, share: 0.25 });
    expect(h?.touched7.test?.z).toBeCloseTo(4.4721, 3);
    expect(h?.touched7.test?.p).toBeCloseTo(7.7e-6, 6);
    // touched ≤ 14 days: 30/40 vs 15/40 = 0.375; pooled 45/80 = 0.5625,
    // se = √(0.5625·0.4375·0.05) = 0.110926 → z = 0.375 / 0.110926 = 3.3806, p ≈ 0.000723.
    expect(h?.touched14.heldOut).toMatchObject({ n: 40, yes: 15 });
    expect(h?.touched14.test?.z).toBeCloseTo(3.3806, 3);
    expect(h?.touched14.test?.p).toBeCloseTo(0.000723, 5);
    expect(h?.touched14.verdict).toBe("touched within 14 days: 75% of nudged vs 38% of held out (+38 points, 95% CI +17 to +58; p < 0.001)");
    // Nobody churned: no difference, and the verdict says so.
    expect(h?.churned.test?.p).toBe(1);
    expect(h?.churned.verdict).toMatch(/^no clear difference yet in churned after the nudge: 0% of nudged vs 0% of held out/);
    // NPS: nobody answered → not enough data.
    expect(h?.npsChange.verdict).toMatch(/^not enough data yet/);
  });

  it("Wilson interval and z-test agree with textbook values", () => {
    // Wilson 95% for 8/10: [0.4902, 0.9433].
    const [lo, hi] = wilsonInterval(8, 10) ?? [Number.NaN, Number.NaN];
    expect(lo).toBeCloseTo(0.4902, 3);
    expect(hi).toBeCloseTo(0.9433, 3);
    expect(wilsonInterval(0, 0)).toBeNull();
    // 45/100 vs 30/100: pooled 0.375, se = √(0.375·0.625·0.02) = 0.068465 → z = 2.1909, p = 0.0285.
    const t = twoProportionTest(45, 100, 30, 100);
    expect(t?.z).toBeCloseTo(2.1909, 3);
    expect(t?.p).toBeCloseTo(0.0285, 3);
  });
});
