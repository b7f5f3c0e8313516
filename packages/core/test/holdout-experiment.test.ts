import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { applyRuleSet, deliverToConsole, holdoutComparison, isHeldOut, newcombeInterval, runSweep, twoProportionTest, wilsonInterval } from "../src/index";
import { ago, customer, freshStatsStore, NOW, nudge, PERIOD, touch, UTC } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const deliveredHeldOut = (store: Store) => store.db.selectFrom("nudges").select("id").where("held_out", "=", 1).where("delivered_at", "is not", null).execute();
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
    for (let i = 0; i < 200; i++) await customer(store, { id: `Q-${i}`, since: ago(400), owner: "U0OWNER" });
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
    const outboxForHeld = await store.db
      .selectFrom("outbox as o")
      .innerJoin("nudges as n", "n.id", "o.nudge_id")
      .select("o.id")
      .where("n.held_out", "=", 1)
      .execute();
    expect(outboxForHeld).toEqual([]);
    const lines: string[] = [];
    const result = await deliverToConsole(store, { write: (l) => lines.push(l), now: NOW });
    expect(result.delivered).toBe(200 - expectedHeld.length);
    const printed = lines.join("\n");
    for (const id of expectedHeld) expect(printed).not.toContain(`Customer ${id} `);
    expect(await deliveredHeldOut(store)).toEqual([]);
    // A second sweep and delivery still never deliver them.
    await runSweep(store, { calendar: UTC, now: NOW + 86_400_000 });
    await deliverToConsole(store, { write: () => {}, now: NOW + 86_400_000 });
    expect(await deliveredHeldOut(store)).toEqual([]);
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
      const id = await customer(store, { id: `H-${i}`, since: ago(400) });
      await nudge(store, { ruleId: "h", customerId: id, createdAt: ago(20), heldOut: held, deliveredAt: held ? null : ago(20) });
      const k = i % 40;
      if ((!held && k < 30) || (held && k < 10)) await touch(store, id, ago(17));
      else if (held && k < 15) await touch(store, id, ago(10));
    }
    const [h] = await holdoutComparison(store, PERIOD);
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
    // Newcombe's hybrid score interval of the difference 0.375, from the Wilson intervals
    // 30/40 → [0.59806, 0.85813] and 15/40 → [0.24223, 0.52968]:
    // lower = 0.375 − √((0.75 − 0.59806)² + (0.52968 − 0.375)²) = 0.375 − 0.21682 = 0.15818,
    // upper = 0.375 + √((0.85813 − 0.75)² + (0.375 − 0.24223)²) = 0.375 + 0.17123 = 0.54623
    // (the Wald interval, 0.375 ± 1.96·√(0.75·0.25/40 + 0.375·0.625/40), was 0.17 to 0.58).
    expect(h?.touched14.test?.interval[0]).toBeCloseTo(0.15818, 4);
    expect(h?.touched14.test?.interval[1]).toBeCloseTo(0.54623, 4);
    expect(h?.touched14.verdict).toBe(
      "touched within 14 days: higher when nudged: 75% of nudged vs 38% of held out (+38 points, 95% CI +16 to +55; p < 0.001)",
    );
    // Nobody churned: no difference, and the verdict says so; the interval is still not a point (Wilson 0/40 → [0, 0.08762]).
    expect(h?.churned.test?.p).toBe(1);
    expect(h?.churned.test?.interval[0]).toBeCloseTo(-0.08762, 4);
    expect(h?.churned.test?.interval[1]).toBeCloseTo(0.08762, 4);
    expect(h?.churned.verdict).toMatch(/^churned after the nudge: no clear difference yet: 0% of nudged vs 0% of held out/);
    // NPS: nobody answered → not enough data; every verdict names its metric first.
    expect(h?.npsChange.verdict).toMatch(/^NPS change: not enough data yet/);
    expect(h?.touched7.verdict).toMatch(/^touched within 7 days: higher when nudged: /);
  });

  it("'touched within 7 days' is 7 calendar days in KEEPWARM_TZ after the nudge's day, across a DST change", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    const LA = new Calendar("America/Los_Angeles");
    // Nudged at 10:00 PST on 2026-03-05; the 7th day after is 2026-03-12, after the change to PDT on 03-08.
    const created = Date.parse("2026-03-05T10:00:00-08:00");
    const endOfSeventh = LA.startOfDay(LA.dayNumber(created) + 8) - 1; // 23:59:59.999 PDT on 03-12
    const inTime = await customer(store, { id: "IN", since: ago(400) });
    const late = await customer(store, { id: "LATE", since: ago(400) });
    for (const [id, at] of [
      [inTime, endOfSeventh],
      [late, endOfSeventh + 1],
    ] as const) {
      await nudge(store, { ruleId: "dst", customerId: id, createdAt: created, heldOut: false, deliveredAt: created });
      await touch(store, id, at);
    }
    await nudge(store, { ruleId: "dst", customerId: await customer(store, { id: "HELD", since: ago(400) }), createdAt: created, heldOut: true });
    const period = { since: Date.parse("2026-03-01T00:00:00-08:00") - 1, until: Date.parse("2026-03-31T12:00:00-07:00"), calendar: LA };
    const [h] = await holdoutComparison(store, period);
    expect(h?.touched7.nudged).toMatchObject({ n: 2, yes: 1 });
    expect(h?.touched14.nudged).toMatchObject({ n: 2, yes: 2 });
    // Not yet 7 days after the nudge's day: the nudge is left out, not counted as untouched.
    const early = await holdoutComparison(store, { ...period, until: endOfSeventh - 1 });
    expect(early[0]?.touched7.nudged.n).toBe(0);
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

  it("the difference's interval is Newcombe's method 10: his published examples, to four decimals", () => {
    // Newcombe, "Interval estimation for the difference between independent proportions",
    // Statistics in Medicine 17 (1998) 873–890, Table II, method 10.
    const examples: Array<[number, number, number, number, number, number]> = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [5, 56, 0, 29, -0.0381, 0.1926],
      [0, 10, 0, 20, -0.1611, 0.2775],
      [0, 10, 0, 10, -0.2775, 0.2775],
      [10, 10, 0, 20, 0.6791, 1],
      [10, 10, 0, 10, 0.6075, 1],
    ];
    for (const [a, n, b, m, lower, upper] of examples) {
      const interval = newcombeInterval(a, n, b, m);
      expect(interval?.[0], `${a}/${n} − ${b}/${m}`).toBeCloseTo(lower, 4);
      expect(interval?.[1], `${a}/${n} − ${b}/${m}`).toBeCloseTo(upper, 4);
      expect(twoProportionTest(a, n, b, m)?.interval).toEqual(interval);
    }
    expect(newcombeInterval(1, 0, 1, 2)).toBeNull();
  });
});
