import { formatPath } from "./validate";
import type { Condition, RuleFile } from "./rule-file";

/** The values customers have in the store, per fact a rule compares to text (segment, tier, attributes.<name>, …). */
export type StoredValues = ReadonlyMap<string, ReadonlyArray<string | number | boolean>>;

/** The text facts whose values come from the customers CSV as imported. */
export const IMPORTED_VALUE_FACTS = ["segment", "lifecycleStage", "tier"] as const;

export interface ValueWarning {
  path: string;
  message: string;
}

/** The attributes a rule file names (attributes.<name>), for the store to look up their values. */
export function attributesNamed(ruleFile: RuleFile): string[] {
  const names = new Set<string>();
  for (const rule of ruleFile.rules) {
    walk(rule.conditions as Condition, [], (leaf) => {
      if (leaf.fact.startsWith("attributes.")) names.add(leaf.fact.slice("attributes.".length));
    });
  }
  return [...names].sort();
}

/**
 * Comparisons that can never be true for any stored customer: `segment equal
 * "Enterprise"` when the stored segments are `enterprise` and `smb`. A warning, not an
 * error (the value may arrive with the next import); only for facts with stored
 * values, and only for equal / notEqual / in / notIn.
 */
export function unmatchedValueWarnings(ruleFile: RuleFile, stored: StoredValues): ValueWarning[] {
  const warnings: ValueWarning[] = [];
  ruleFile.rules.forEach((rule, index) => {
    walk(rule.conditions as Condition, ["rules", index, "conditions"], (leaf, path) => {
      const known = stored.get(leaf.fact);
      if (known === undefined || known.length === 0) return;
      if (!["equal", "notEqual", "in", "notIn"].includes(leaf.operator)) return;
      const values = Array.isArray(leaf.value) ? leaf.value : [leaf.value];
      values.forEach((value, at) => {
        if (value === null || typeof value === "object" || known.includes(value)) return;
        const sameButCase = typeof value === "string" ? known.find((k) => typeof k === "string" && k.toLowerCase() === value.toLowerCase()) : undefined;
        const listed = known.length <= 10 ? known.map((k) => JSON.stringify(k)).join(", ") : `${known.length} values`;
        warnings.push({
          path: formatPath([...path, "value", ...(Array.isArray(leaf.value) ? [at] : [])]),
          message: `no customer has ${leaf.fact} ${JSON.stringify(value)}${sameButCase === undefined ? "" : ` (did you mean ${JSON.stringify(sameButCase)}?)`}; stored: ${listed}`,
        });
      });
    });
  });
  return warnings;
}

function walk(node: Condition, path: PropertyKey[], visit: (leaf: Extract<Condition, { fact: string }>, path: PropertyKey[]) => void): void {
  if ("all" in node) {
    for (const [i, child] of node.all.entries()) walk(child, [...path, "all", i], visit);
  } else if ("any" in node) {
    for (const [i, child] of node.any.entries()) walk(child, [...path, "any", i], visit);
  } else if ("not" in node) {
    walk(node.not, [...path, "not"], visit);
  } else {
    visit(node, path);
  }
}
