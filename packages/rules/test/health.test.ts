import { describe, expect, it } from "vitest";
import {
  buildFactProgram,
  Calendar,
  defaultRulesText,
  describeBreakdown,
  describeMoves,
  type FactInput,
  formatError,
  healthModel,
  healthSchema,
  readHealth,
  validateRuleFile,
  validateRuleFileText,
  whyItMoved,
} from "../src/index";

/** The hand-computed fixture: three components, weights 40/30/30. */
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
  segments: {
    enterprise: { components: [{ name: "touch recency", fact: "daysSinceLastTouch", weight: 1, bands: [{ max: 7, score: 100 }, { score: 0 }] }] },
  },
};
const model = healthModel(healthSchema.parse(HEALTH));

describe("the health score", () => {
  it("is Σ weight × band score ÷ Σ weight, rounded, with its breakdown (hand-computed)", () => {
    // 20 days → 60, passive → 70, no purchase → 0: (40×60 + 30×70 + 30×0) ÷ 100 = 45 → C (≥ 40).
    const reading = readHealth(model, { daysSinceLastTouch: 20, npsCategory: "passive", purchasesLast90Days: 0 }, "smb");
    expect(reading.score).toBe(45);
    expect(reading.grade).toBe("C");
    expect(reading.components.map((c) => [c.name, c.score, c.points])).toEqual([
      ["touch recency", 60, 24],
      ["NPS", 70, 21],
      ["buying", 0, 0],
    ]);
    expect(describeBreakdown(reading)).toBe("touch recency 60 × 40 %, NPS 70 × 30 %, buying 0 × 30 %");
  });

  it("leaves out a component without a value and shares its weight; a band edge is inclusive", () => {
    // No NPS answer: (40×60 + 30×60) ÷ 70 = 60 → B; 14 days is still the first band.
    const reading = readHealth(model, { daysSinceLastTouch: 14, npsCategory: null, purchasesLast90Days: 1 }, null);
    expect(reading.components.map((c) => c.score)).toEqual([100, null, 60]);
    expect(reading.score).toBe(Math.round((40 * 100 + 30 * 60) / 70));
    expect(reading.score).toBe(83);
    expect(reading.grade).toBe("A");
    expect(describeBreakdown(reading)).toBe("touch recency 100 × 57 %, NPS left out (no value), buying 60 × 43 %");
  });

  it("uses the customer's segment profile, else the default; grades at their floors", () => {
    expect(readHealth(model, { daysSinceLastTouch: 7 }, "enterprise")).toMatchObject({ score: 100, grade: "A" });
    expect(readHealth(model, { daysSinceLastTouch: 8 }, "enterprise")).toMatchObject({ score: 0, grade: "F" });
    const grades = [80, 79, 60, 59, 40, 39, 20, 19].map(
      (score) =>
        readHealth(healthModel(healthSchema.parse({ default: { components: [{ fact: "npsLatest", weight: 1, bands: [{ score }] }] } })), { npsLatest: 1 }, null)
          .grade,
    );
    expect(grades).toEqual(["A", "B", "B", "C", "C", "D", "D", "F"]);
    expect(readHealth(model, { daysSinceLastTouch: null, npsCategory: null, purchasesLast90Days: null }, null)).toMatchObject({ score: null, grade: null });
  });

  it("says why it moved: the components whose points changed, largest first (hand-computed)", () => {
    const then = readHealth(model, { daysSinceLastTouch: 5, npsCategory: "promoter", purchasesLast90Days: 6 }, null);
    const now = readHealth(model, { daysSinceLastTouch: 20, npsCategory: "passive", purchasesLast90Days: 0 }, null);
    expect(then.score).toBe(100);
    const moves = whyItMoved(then, now);
    expect(moves.map((m) => [m.name, m.before, m.after, m.change])).toEqual([
      ["buying", 6, 0, -30],
      ["touch recency", 5, 20, -16],
      ["NPS", "promoter", "passive", -9],
    ]);
    expect(describeMoves(moves)).toBe("buying 6 → 0 (−30 points), touch recency 5 → 20 (−16 points), NPS promoter → passive (−9 points)");
  });

  it("is a fact: healthScore, healthGrade and healthChange30Days through a fact program", () => {
    const UTC = new Calendar("UTC");
    const now = Date.parse("2026-06-15T12:00:00Z");
    const program = buildFactProgram(["healthChange30Days"], { health: model });
    // Touches now and 30 days back, NPS: the program reads each aggregate at both instants.
    expect(program.pastDays).toEqual([30]);
    expect(program.columns.map((c) => c.name).sort()).toEqual(
      [
        "touches.lastAt@0",
        "touches.lastAt@30",
        "nps.latest#1@0",
        "nps.latest#1@30",
        "purchases.count(0..89)@0",
        "purchases.count(0..89)@30",
        "touches.latest#1@0",
      ].sort(),
    );
    const index = (name: string) => program.columns.findIndex((c) => c.name === name);
    const values: FactInput["values"][number][] = program.columns.map(() => null);
    values[index("touches.lastAt@0")] = now - 20 * 86_400_000;
    values[index("touches.lastAt@30")] = now - 35 * 86_400_000;
    values[index("nps.latest#1@0")] = 8;
    values[index("nps.latest#1@30")] = 9;
    values[index("purchases.count(0..89)@0")] = 0;
    values[index("purchases.count(0..89)@30")] = 6;
    const row: FactInput = {
      id: 1,
      externalId: "C-1",
      name: "C",
      segment: "smb",
      lifecycleStage: null,
      tier: null,
      ownerSlackId: null,
      loyaltyMember: 0,
      sinceAt: now - 400 * 86_400_000,
      renewalAt: null,
      churnedAt: null,
      createdAt: now - 400 * 86_400_000,
      attributes: "{}",
      values,
    };
    const facts = program.evaluate(row, now, UTC);
    // Then: 5 days (end of that day) → 100, promoter → 100, 6 purchases → 100: 100. Now 45.
    expect(facts).toMatchObject({ healthScore: 45, healthGrade: "C", healthChange30Days: -55 });
    expect(program.past()(30)).toMatchObject({ healthScore: 100, daysSinceLastTouch: 5, npsCategory: "promoter", purchasesLast90Days: 6 });
  });
});

describe("the health block is validated like the rules, errors naming the JSON path", () => {
  const errorsOf = (health: unknown, rules: unknown[] = []) => {
    const result = validateRuleFile({ rules, health });
    return result.valid ? [] : result.errors.map(formatError);
  };
  const component = (extra: Record<string, unknown>) => ({
    default: { components: [{ fact: "daysSinceLastTouch", weight: 1, bands: [{ score: 1 }], ...extra }] },
  });

  it("names unknown facts, facts of the score itself, wrong band kinds and unreachable bands", () => {
    expect(errorsOf(component({ fact: "daysSinceLastTuch" }))).toEqual([
      'health.default.components[0].fact: unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)',
    ]);
    expect(errorsOf(component({ fact: "healthScore" }))).toEqual([
      'health.default.components[0].fact: a component cannot read "healthScore": the score would be computed from itself',
    ]);
    expect(errorsOf(component({ bands: [{ is: "x", score: 1 }] }))).toEqual([
      'health.default.components[0].bands[0].is: fact "daysSinceLastTouch" is a number: bands use "min" and "max"',
    ]);
    expect(errorsOf(component({ fact: "npsCategory", bands: [{ min: 1, score: 1 }] }))).toEqual([
      'health.default.components[0].bands[0].min: fact "npsCategory" is a string: bands use "is"',
    ]);
    expect(errorsOf(component({ fact: "loyaltyMember", bands: [{ is: "yes", score: 1 }] }))).toEqual([
      'health.default.components[0].bands[0].is: fact "loyaltyMember" is true/false; got string "yes"',
    ]);
    expect(errorsOf(component({ bands: [{ score: 1 }, { max: 3, score: 2 }] }))).toEqual([
      'health.default.components[0].bands[1]: never used: band 0 has no "min", "max" or "is", so it holds for every value',
    ]);
    expect(errorsOf(component({ bands: [{ min: 5, max: 3, score: 2 }] }))).toEqual(["health.default.components[0].bands[0].max: must be ≥ min (5)"]);
  });

  it("names bad numbers, unknown keys, duplicate names, segments and grade floors", () => {
    expect(errorsOf(component({ weight: 0, bands: [{ score: 101 }] }))).toEqual([
      "health.default.components[0].weight: must be > 0",
      "health.default.components[0].bands[0].score: must be ≤ 100",
    ]);
    expect(errorsOf(component({ wieght: 2 }))).toEqual(['health.default.components[0].wieght: unknown key "wieght" (did you mean "weight"?)']);
    expect(
      errorsOf({
        default: {
          components: [
            { fact: "daysSinceLastTouch", weight: 1, bands: [{ score: 1 }] },
            { fact: "daysSinceLastTouch", weight: 1, bands: [{ score: 2 }] },
          ],
        },
      }),
    ).toEqual(['health.default.components[1].name: two components are called "daysSinceLastTouch" (also components[0]); give them different "name"s']);
    expect(errorsOf({ ...component({}), segments: { Enterprise: component({}).default } })).toEqual([
      "health.segments.Enterprise: segment names are stored in lower case: letters, digits, space, '.', '_' or '-'",
    ]);
    expect(errorsOf({ ...component({}), grades: { A: 80, B: 60, C: 70, D: 20 } })).toEqual(["health.grades: grade floors must descend: A > B > C > D"]);
    expect(errorsOf({ segments: {} })).toEqual(["health.default: is required"]);
  });

  it("a rule reading a health fact needs a health block", () => {
    const rule = { id: "r", name: "r", conditions: { all: [{ fact: "healthScore", operator: "lessThan", value: 40 }] }, nudge: { message: "m" } };
    expect(validateRuleFile({ rules: [rule] }).errors.map(formatError)).toEqual([
      'rules[0].conditions.all[0].fact: fact "healthScore" needs a "health" block in the rule file (see docs/rules.md, "Health score")',
    ]);
    expect(validateRuleFile({ rules: [rule], health: HEALTH }).errors).toEqual([]);
  });

  it("the default rule file's health block is valid", () => {
    const result = validateRuleFileText(defaultRulesText());
    expect(result.errors).toEqual([]);
    expect(result.valid && result.ruleFile.health?.segments?.enterprise).toBeDefined();
  });
});
