import { describe, expect, it } from "vitest";
import { normaliseName } from "../src/attribute-name";
import { type RuleFile, unmatchedValueWarnings, validateRuleFile } from "../src/index";

const ruleWith = (conditions: unknown) => ({ rules: [{ id: "r", name: "R", conditions, nudge: { message: "hi" } }] });
function parseRuleFile(value: unknown): RuleFile {
  const result = validateRuleFile(value);
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

describe("attribute names: one spelling for the import and the rules", () => {
  it("normalises headers as exports write them", () => {
    expect(
      ["Annual Revenue", "  Region ", "Country/Region", "Number of Employees", "customer_id", "Owner-Email", "2024 ARR", "Région", "---", "__x__"].map(
        normaliseName,
      ),
    ).toEqual(["annual_revenue", "region", "country_region", "number_of_employees", "customer_id", "owner-email", "_2024_arr", "r_gion", "_---", "x"]);
  });

  it("refuses an attribute the import never stores, naming the stored spelling", () => {
    for (const [fact, stored] of [
      ["attributes.Region", "attributes.region"],
      ["attributes.annual revenue", "attributes.annual_revenue"],
      ["attributes.Annual Revenue", "attributes.annual_revenue"],
    ]) {
      const result = validateRuleFile(ruleWith({ all: [{ fact, operator: "equal", value: "x" }] }));
      expect(result.valid).toBe(false);
      expect(result.errors).toEqual([
        {
          path: "rules[0].conditions.all[0].fact",
          message: `unknown fact "${fact}" (the import stores this column as "${stored}": names are lower case, spaces and other signs become '_')`,
        },
      ]);
    }
    expect(validateRuleFile(ruleWith({ all: [{ fact: "attributes.annual_revenue", operator: "greaterThan", value: 5 }] })).valid).toBe(true);
  });

  it("warns when a rule compares a fact to a value no stored customer has, suggesting the stored spelling", () => {
    const file = parseRuleFile(
      ruleWith({
        any: [
          { fact: "segment", operator: "equal", value: "Enterprise" },
          { not: { fact: "tier", operator: "in", value: ["gold", "platinum"] } },
          { fact: "attributes.vip", operator: "equal", value: true },
          { fact: "lifecycleStage", operator: "equal", value: "onboarding" },
          { fact: "daysSinceLastTouch", operator: "greaterThan", value: 30 },
        ],
      }),
    );
    const stored = new Map<string, Array<string | number | boolean>>([
      ["segment", ["enterprise", "smb"]],
      ["tier", ["gold", "silver"]],
      ["attributes.vip", [false]],
    ]);
    expect(unmatchedValueWarnings(file, stored)).toEqual([
      { path: "rules[0].conditions.any[0].value", message: 'no customer has segment "Enterprise" (did you mean "enterprise"?); stored: "enterprise", "smb"' },
      { path: "rules[0].conditions.any[1].not.value[1]", message: 'no customer has tier "platinum"; stored: "gold", "silver"' },
      { path: "rules[0].conditions.any[2].value", message: "no customer has attributes.vip true; stored: false" },
    ]);
  });
});
