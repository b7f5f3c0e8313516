import { describe, expect, it } from "vitest";
import { defaultRulesText, formatError, LIMITS, validateRuleFileText } from "../src/index";

type Leaf = { fact?: string; operator?: string; value?: unknown; path?: string };
interface LooseRule {
  id: string;
  name: unknown;
  conditions: { all: Leaf[] };
  nudge: Record<string, unknown>;
}
interface LooseFile {
  description?: string;
  rules: LooseRule[];
}

/** The default rule file with one edit applied to its parsed JSON (its rules are all "all" groups). */
function withEdit(edit: (file: LooseFile, rule: (index: number) => LooseRule) => void): string {
  const file = JSON.parse(defaultRulesText()) as LooseFile;
  edit(file, (index) => {
    const rule = file.rules[index];
    if (rule === undefined) throw new Error(`no rules[${index}] in the default file`);
    return rule;
  });
  return JSON.stringify(file);
}
const leaf = (rule: LooseRule, index: number): Leaf => {
  const found = rule.conditions.all[index];
  if (found === undefined) throw new Error(`no condition ${index}`);
  return found;
};
const errorsOf = (text: string): string[] => {
  const result = validateRuleFileText(text);
  expect(result.valid).toBe(false);
  return result.errors.map(formatError);
};

describe("rule file validation", () => {
  it("names an unknown fact with its JSON path and the nearest fact", () => {
    const text = withEdit((_f, rule) => {
      leaf(rule(1), 1).fact = "daysSinceLastTuch";
    });
    expect(errorsOf(text)).toEqual(['rules[1].conditions.all[1].fact: unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)']);
  });

  it("rejects an unknown operator and suggests the nearest one", () => {
    const text = withEdit((_f, rule) => {
      leaf(rule(0), 1).operator = "greaterThanInclusiv";
    });
    expect(errorsOf(text)).toEqual(['rules[0].conditions.all[1].operator: unknown operator "greaterThanInclusiv" (did you mean "greaterThanInclusive"?)']);
  });

  it("rejects a value of the wrong type for the fact and operator", () => {
    const numeric = withEdit((_f, rule) => {
      leaf(rule(0), 1).value = "14";
    });
    expect(errorsOf(numeric)).toEqual(['rules[0].conditions.all[1].value: fact "daysSinceLastTouch" is compared as a number; got string "14"']);
    const boolean = withEdit((_f, rule) => {
      leaf(rule(3), 1).value = "no";
    });
    expect(errorsOf(boolean)).toEqual(['rules[3].conditions.all[1].value: fact "loyaltyMember" is true/false; got string "no"']);
  });

  it("rejects duplicate rule ids, naming both places", () => {
    const text = withEdit((_f, rule) => {
      rule(2).id = "no-contact";
    });
    expect(errorsOf(text)).toEqual(['rules[2].id: duplicate rule id "no-contact" (also rules[1])']);
  });

  it("rejects an empty condition group", () => {
    const text = withEdit((_f, rule) => {
      rule(0).conditions = { all: [] };
    });
    expect(errorsOf(text)).toEqual(["rules[0].conditions.all: empty condition group: add a condition or remove the group"]);
  });

  it("rejects a JSONPath 'path' on a condition: a rule file cannot run expressions", () => {
    const text = withEdit((_f, rule) => {
      leaf(rule(0), 0).path = "$.constructor";
    });
    expect(errorsOf(text)).toEqual(['rules[0].conditions.all[0].path: JSONPath "path" is not allowed: a rule file cannot run expressions']);
  });

  it("rejects a template with an unknown variable or unbalanced braces", () => {
    const unknown = withEdit((_f, rule) => {
      rule(0).nudge.message = "Call {{customer.nmae}}";
    });
    expect(errorsOf(unknown)[0]).toMatch(/^rules\[0\]\.nudge\.message: unknown template variable "\{\{customer\.nmae\}\}"/);
    const unbalanced = withEdit((_f, rule) => {
      rule(0).nudge.message = "Call {{customer.name}";
    });
    expect(errorsOf(unbalanced)).toEqual(['rules[0].nudge.message: unbalanced "{{" or "}}" in template']);
  });

  it("rejects a destination that is not owner, a channel name or a channel id", () => {
    const text = withEdit((_f, rule) => {
      rule(0).nudge.destination = "cs alerts";
    });
    expect(errorsOf(text)).toEqual(['rules[0].nudge.destination: must be "owner", a channel name like "#cs-alerts", or a channel id like "C0123ABCD"']);
  });

  it("rejects a cooldown that is negative, fractional or not a number", () => {
    for (const [value, message] of [
      [-1, "must be ≥ 0"],
      [2.5, "must be a whole number of days"],
      [400, "must be ≤ 365"],
    ] as const) {
      const text = withEdit((_f, rule) => {
        rule(1).nudge.cooldownDays = value;
      });
      expect(errorsOf(text)).toEqual([`rules[1].nudge.cooldownDays: ${message}`]);
    }
    const text = withEdit((_f, rule) => {
      rule(1).nudge.cooldownDays = "7";
    });
    expect(errorsOf(text)).toEqual(['rules[1].nudge.cooldownDays: must be a number; got string "7"']);
  });

  it("tells a missing key from a key of the wrong type", () => {
    const text = withEdit((_f, rule) => {
      delete rule(1).nudge.message;
      rule(0).name = 5;
    });
    expect(errorsOf(text)).toEqual(["rules[0].name: must be a string; got number 5", "rules[1].nudge.message: is required"]);
  });

  it("rejects an oversized file before parsing it", () => {
    const text = withEdit((f) => {
      f.description = "x".repeat(LIMITS.fileBytes);
    });
    expect(errorsOf(text)).toEqual([`rule file is larger than ${LIMITS.fileBytes / 1024} KiB`]);
  });

  it("rejects text that is not JSON in one message", () => {
    expect(errorsOf("{ rules: [")[0]).toMatch(/^not valid JSON: /);
  });

  it("reports several errors at once, each with its own path", () => {
    const text = withEdit((_f, rule) => {
      leaf(rule(2), 0).fact = "daysSinceNPS";
      rule(3).nudge.priority = "asap";
    });
    const errors = errorsOf(text);
    expect(errors).toContain('rules[2].conditions.all[0].fact: unknown fact "daysSinceNPS" (did you mean "daysSinceNps"?)');
    expect(errors.some((e) => e.startsWith("rules[3].nudge.priority: "))).toBe(true);
  });
});
