import { buildFactProgram, Calendar, type Facts, type RuleFile, validateRuleFile } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { factsOfCustomers } from "../src/facts/customer-facts";
import { addCustomer, addNps, addPurchases, addTouch, type Fixture, freshStore, NOW, sweepAt } from "./sweep-fixtures";

/*
 * The new facts at their edges, on the store's own scan (both engines): calendar days
 * in KEEPWARM_TZ, here Los Angeles (NOW is 05:00 PDT on 2026-06-15), so every edge is
 * a local midnight, not a UTC one and not "24 hours ago".
 */

const LA = new Calendar("America/Los_Angeles");
/** Local midnight starting the day `days` calendar days before NOW's day. */
const midnight = (days: number) => LA.startOfDay(LA.dayNumber(NOW) - days);

let fixture: Fixture;
beforeEach(async () => {
  fixture = await freshStore();
});
afterEach(() => fixture.close());

async function factsOf(store: Store, names: string[]): Promise<Record<string, Facts>> {
  const program = buildFactProgram(names);
  const rows = await factsOfCustomers(store, program, { now: NOW, calendar: LA });
  const ids = new Map((await store.db.selectFrom("customers").select(["id", "external_id"]).execute()).map((r) => [r.id, r.external_id]));
  return Object.fromEntries(rows.map((r) => [ids.get(r.customer.id), r.facts]));
}

const pick = (facts: Record<string, Facts>, name: string) => Object.fromEntries(Object.entries(facts).map(([id, f]) => [id, f[name]]));

describe("days since the last touch of a kind", () => {
  it("counts local midnights, ignores other kinds and later touches, and counts from `since` when there was none", async () => {
    const { store } = fixture;
    const a = await addCustomer(store, { id: "A", since: midnight(100) });
    await addTouch(store, a, midnight(0), "meeting"); // 00:00 today, local
    await addTouch(store, a, midnight(0) - 1, "visit"); // 23:59:59.999 yesterday, local
    await addTouch(store, a, midnight(30) + 3_600_000, "call");
    await addTouch(store, a, NOW + 3_600_000, "chat"); // after NOW: not yet
    await addCustomer(store, { id: "B", since: midnight(5) });
    const c = await addCustomer(store, { id: "C", since: midnight(400) });
    await addTouch(store, c, midnight(40), "visit");
    await addTouch(store, c, midnight(10), "meeting");
    await addTouch(store, c, NOW - 60_000, "email");

    const facts = await factsOf(store, [
      "daysSinceLastCall",
      "daysSinceLastEmail",
      "daysSinceLastMeeting",
      "daysSinceLastVisit",
      "daysSinceLastChat",
      "daysSinceLastMeetingOrVisit",
      "daysSinceLastTouch",
      "daysAsCustomer",
    ]);
    expect(facts.A).toEqual({
      daysSinceLastCall: 30,
      daysSinceLastEmail: 100,
      daysSinceLastMeeting: 0,
      daysSinceLastVisit: 1,
      daysSinceLastChat: 100,
      daysSinceLastMeetingOrVisit: 0,
      daysSinceLastTouch: 0,
      neverTouched: false,
      lastTouchKind: "meeting",
      daysAsCustomer: 100,
    });
    expect(facts.B).toMatchObject({ daysSinceLastMeeting: 5, daysSinceLastMeetingOrVisit: 5, daysSinceLastTouch: 5, neverTouched: true, daysAsCustomer: 5 });
    expect(facts.C).toMatchObject({
      daysSinceLastMeeting: 10,
      daysSinceLastVisit: 40,
      daysSinceLastMeetingOrVisit: 10,
      daysSinceLastEmail: 0,
      daysSinceLastTouch: 0,
    });
  });
});

describe("purchases", () => {
  it("daysSinceLastPurchase: 0 from local midnight, 1 the millisecond before, null without one", async () => {
    const { store } = fixture;
    await addPurchases(store, await addCustomer(store, { id: "TODAY" }), [midnight(0)]);
    await addPurchases(store, await addCustomer(store, { id: "YESTERDAY" }), [midnight(0) - 1]);
    await addCustomer(store, { id: "NEVER" });
    await addPurchases(store, await addCustomer(store, { id: "LATER" }), [NOW + 60_000]);
    expect(pick(await factsOf(store, ["daysSinceLastPurchase"]), "daysSinceLastPurchase")).toEqual({ TODAY: 0, YESTERDAY: 1, NEVER: null, LATER: null });
  });

  it("purchaseTrend compares the last 90 calendar days with the 90 before, in percent of the earlier count", async () => {
    const { store } = fixture;
    // Day 89 is the first day of the last 90; day 90 the last day of the 90 before; day 179 their first.
    await addPurchases(store, await addCustomer(store, { id: "EDGES" }), [midnight(89), midnight(89) - 1, midnight(179), midnight(179) - 1]);
    await addPurchases(store, await addCustomer(store, { id: "NEW-BUYER" }), [midnight(1), midnight(2), midnight(3)]);
    await addPurchases(store, await addCustomer(store, { id: "UP" }), [
      midnight(100),
      midnight(120),
      midnight(150),
      midnight(1),
      midnight(2),
      midnight(3),
      midnight(4),
    ]);
    await addPurchases(store, await addCustomer(store, { id: "STOPPED" }), [midnight(100), midnight(170)]);
    await addCustomer(store, { id: "NONE" });
    const facts = await factsOf(store, ["purchaseTrend"]);
    expect(pick(facts, "purchasesLast90Days")).toEqual({ EDGES: 1, "NEW-BUYER": 3, UP: 4, STOPPED: 0, NONE: 0 });
    expect(pick(facts, "purchasesPrevious90Days")).toEqual({ EDGES: 2, "NEW-BUYER": 0, UP: 3, STOPPED: 2, NONE: 0 });
    // (1 − 2) ÷ 2 = −50 %; no base → null; (4 − 3) ÷ 3 = +33 % (rounded); (0 − 2) ÷ 2 = −100 %.
    expect(pick(facts, "purchaseTrend")).toEqual({ EDGES: -50, "NEW-BUYER": null, UP: 33, STOPPED: -100, NONE: null });
  });
});

describe("npsCategory", () => {
  it("is the latest response's category: 0–6 detractor, 7–8 passive, 9–10 promoter; null without one", async () => {
    const { store } = fixture;
    for (const [id, score] of [
      ["S0", 0],
      ["S6", 6],
      ["S7", 7],
      ["S8", 8],
      ["S9", 9],
      ["S10", 10],
    ] as const) {
      await addNps(store, await addCustomer(store, { id }), score, midnight(3));
    }
    const recovered = await addCustomer(store, { id: "RECOVERED" });
    await addNps(store, recovered, 3, midnight(40));
    await addNps(store, recovered, 9, midnight(2));
    const later = await addCustomer(store, { id: "ANSWERS-LATER" });
    await addNps(store, later, 2, NOW + 60_000);
    await addCustomer(store, { id: "NONE" });
    expect(pick(await factsOf(store, ["npsCategory"]), "npsCategory")).toEqual({
      S0: "detractor",
      S6: "detractor",
      S7: "passive",
      S8: "passive",
      S9: "promoter",
      S10: "promoter",
      RECOVERED: "promoter",
      "ANSWERS-LATER": null,
      NONE: null,
    });
  });
});

describe("daysAsCustomer", () => {
  it("is 0 from local midnight of the first day, 1 a millisecond earlier, and counts from the import without `since`", async () => {
    const { store } = fixture;
    await addCustomer(store, { id: "FIRST-DAY", since: midnight(0) });
    await addCustomer(store, { id: "YESTERDAY", since: midnight(0) - 1 });
    await store.db
      .insertInto("customers")
      .values({ external_id: "NO-SINCE", name: "No since", attributes: "{}", created_at: midnight(2) + 5 * 3_600_000, updated_at: NOW, loyalty_member: 0 })
      .execute();
    expect(pick(await factsOf(store, ["daysAsCustomer"]), "daysAsCustomer")).toEqual({ "FIRST-DAY": 0, YESTERDAY: 1, "NO-SINCE": 2 });
  });
});

describe("the new facts in rules", () => {
  it("are phrased by their definitions in the nudge's explanation", async () => {
    const { store } = fixture;
    const id = await addCustomer(store, { id: "C-1", since: midnight(200) });
    await addTouch(store, id, midnight(1), "email");
    await addTouch(store, id, midnight(64), "meeting");
    await addPurchases(store, id, [midnight(100), midnight(110), midnight(5)]);
    await addNps(store, id, 4, midnight(3));
    const result = validateRuleFile({
      rules: [
        {
          id: "r",
          name: "r",
          conditions: {
            all: [
              { fact: "daysSinceLastMeetingOrVisit", operator: "greaterThanInclusive", value: 30 },
              { fact: "purchaseTrend", operator: "lessThanInclusive", value: -50 },
              { fact: "daysSinceLastPurchase", operator: "greaterThan", value: 3 },
              { fact: "npsCategory", operator: "equal", value: "detractor" },
            ],
          },
          nudge: { message: "{{explanation}}" },
        },
      ],
    });
    if (!result.valid) throw new Error(JSON.stringify(result.errors));
    const report = await sweepAt(store, NOW, { calendar: LA, dryRun: true, ruleSet: { version: 0, ruleFile: result.ruleFile as RuleFile, json: "" } });
    expect(report.nudges.map((n) => n.explanation)).toEqual([
      "NPS 4 (rule: now is detractor); No meeting or visit for 64 days (rule: ≥ 30 days); Purchases −50% (2 → 1 per 90 days) (rule: ≤ -50%); Last purchase 5 days ago (rule: > 3 days)",
    ]);
  });
});
