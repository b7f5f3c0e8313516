import { describe, expect, it } from "vitest";
import { defaultRulesText, formatError, validateRuleFileText } from "../src/index";

describe("the shipped default rule file", () => {
  it("is valid and holds the three design-card triggers", () => {
    const result = validateRuleFileText(defaultRulesText());
    expect(result.errors.map(formatError)).toEqual([]);
    if (!result.valid) return;
    expect(result.ruleFile.rules.map((r) => r.id)).toEqual(["no-contact-enterprise", "no-contact", "nps-drop", "frequent-buyer-no-loyalty"]);
  });
});
