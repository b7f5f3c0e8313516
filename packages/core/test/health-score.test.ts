import { type RuleFile, validateRuleFile } from "@keepwarm/rules";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { customerHealth, healthLines } from "../src/health";
import { applyRuleSet, buildReportHtml } from "../src/index";
import { addCustomer, addNps, addPurchases, addTouch, daysBefore, type Fixture, freshStore, NOW, sweepAt, UTC } from "./sweep-fixtures";

/*
 * The health score on the store, both engines, on a hand-computed customer. NOW is
 * 2026-06-15 12:00 UTC; "30 days ago" is the end of 2026-05-16.
 *   then: last touch 05-11 (5 days → 100), NPS 9 (promoter → 100), 6 purchases in
 *         Feb (in the 90 days up to 05-16 → 100): (40×100 + 30×100 + 30×100) ÷ 100 = 100, A
 *   now:  last touch 05-26 (20 days → 60), NPS 8 (passive → 70), no purchase since
 *         03-18 (→ 0): (40×60 + 30×70 + 30×0) ÷ 100 = 45, C; change −55.
 */

const HEALTH = {
  default: {
    components: [
      { name: "touch recency", fact: "daysSinceLastTouch", weight: 40, bands: [{ max: 14, score: 100 }, { max: 30, score: 60 }, { score: 20 }] },
      {
        name: "NPS",
        fact: "npsCategory",
        weight: 30,
        bands: [
          { is: "promoter", score: 100 },
          { is: "passive", score: 70 },
          { is: "detractor", score: 10 },
        ],
      },
      { name: "buying", fact: "purchasesLast90Days", weight: 30, bands: [{ min: 5, score: 100 }, { min: 1, score: 60 }, { score: 0 }] },
    ],
  },
};

function ruleFile(rules: Array<{ id: string; conditions: unknown }>): RuleFile {
  const result = validateRuleFile({
    health: HEALTH,
    rules: rules.map((r) => ({ ...r, name: r.id, nudge: { message: "{{customer.name}}: {{explanation}}" } })),
  });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

let fixture: Fixture;
beforeEach(async () => {
  fixture = await freshStore();
});
afterEach(() => fixture.close());

async function seed(): Promise<{ declined: number; fresh: number }> {
  const { store } = fixture;
  const declined = await addCustomer(store, { id: "DECLINED", segment: "smb", since: daysBefore(400) });
  await addTouch(store, declined, Date.parse("2026-05-11T10:00:00Z"));
  await addTouch(store, declined, Date.parse("2026-05-26T10:00:00Z"));
  await addNps(store, declined, 9, Date.parse("2026-05-01T10:00:00Z"));
  await addNps(store, declined, 8, Date.parse("2026-06-01T10:00:00Z"));
  await addPurchases(
    store,
    declined,
    [20, 21, 22, 23, 24, 25].map((day) => Date.parse(`2026-02-${day}T10:00:00Z`)),
  );
  const fresh = await addCustomer(store, { id: "FRESH", segment: "smb", since: daysBefore(10) });
  await addTouch(store, fresh, daysBefore(1));
  return { declined, fresh };
}

const WHY = "30 days ago 100: buying 6 → 0 (−30 points), touch recency 5 → 20 (−16 points), NPS promoter → passive (−9 points)";

describe("the health score on the store", () => {
  it("shows its breakdown and why it moved on the nudge of a rule that reads it", async () => {
    await seed();
    const file = ruleFile([
      { id: "low-health", conditions: { all: [{ fact: "healthScore", operator: "lessThanInclusive", value: 50 }] } },
      { id: "health-fell", conditions: { all: [{ fact: "healthChange30Days", operator: "lessThanInclusive", value: -20 }] } },
    ]);
    const report = await sweepAt(fixture.store, NOW, { dryRun: true, ruleSet: { version: 0, ruleFile: file, json: "" } });
    expect(report.nudges.map((n) => [n.ruleId, n.customerId, n.explanation])).toEqual([
      ["low-health", "DECLINED", `Health 45 (C) (rule: score ≤ 50): touch recency 60 × 40 %, NPS 70 × 30 %, buying 0 × 30 %; ${WHY}`],
      ["health-fell", "DECLINED", `Health 45 (C) (rule: 30-day change ≤ -20): touch recency 60 × 40 %, NPS 70 × 30 %, buying 0 × 30 %; ${WHY}`],
    ]);
  });

  it("gives the customer summary its lines: score, grade, breakdown, and the change since 30 days ago", async () => {
    const { declined, fresh } = await seed();
    const file = ruleFile([]);
    const [health] = (await customerHealth(fixture.store, file, { now: NOW, calendar: UTC }, [declined])) ?? [];
    expect(health).toMatchObject({ change: -55, now: { score: 45, grade: "C" }, before: { score: 100, grade: "A" } });
    expect(healthLines(health as NonNullable<typeof health>)).toEqual([
      "Health 45/100 (C): touch recency 60 × 40 %, NPS 70 × 30 %, buying 0 × 30 %",
      "30 days ago 100 (−55): buying 6 → 0 (−30 points), touch recency 5 → 20 (−16 points), NPS promoter → passive (−9 points)",
    ]);
    // A customer who was not a customer 30 days ago has no change; no NPS answer: that component is left out.
    const [young] = (await customerHealth(fixture.store, file, { now: NOW, calendar: UTC }, [fresh])) ?? [];
    expect(young).toMatchObject({ change: null, before: null, now: { score: 57, grade: "C" } });
    expect(healthLines(young as NonNullable<typeof young>)).toEqual([
      "Health 57/100 (C): touch recency 100 × 57 %, NPS left out (no value), buying 0 × 43 %",
      "30 days ago: no score",
    ]);
    expect(await customerHealth(fixture.store, { rules: [] }, { now: NOW, calendar: UTC })).toBeUndefined();
  });

  it("is in the report: customers per grade, and who fell 20+ points in 30 days, with why", async () => {
    await seed();
    await applyRuleSet(fixture.store, JSON.stringify({ health: HEALTH, rules: [] }), { author: "test", source: "test", now: NOW });
    const html = await buildReportHtml(fixture.store, { since: daysBefore(90), until: NOW, calendar: UTC }, NOW);
    expect(html).toContain("<h2>Customer health</h2>");
    expect(html).toContain("2 of 2 active customers have a score; average 51.");
    expect(html).toContain("Fell 20+ points in 30 days (1)");
    expect(html).toContain("<b>Customer DECLINED</b> (DECLINED): Health 45/100 (C): touch recency 60 × 40 %, NPS 70 × 30 %, buying 0 × 30 %");
    expect(html).toContain(WHY.replace("30 days ago 100:", "30 days ago 100 (−55):"));
  });
});
