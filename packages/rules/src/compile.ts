import type { Facts } from "./facts/definition";
import { OPERATORS } from "./operators";
import type { Condition, LeafCondition, Rule } from "./rule-file";

export type Predicate = (facts: Facts) => boolean;

const isLeaf = (condition: Condition): condition is LeafCondition => "fact" in condition;
const isFactReference = (value: unknown): value is { fact: string } => value !== null && typeof value === "object" && Object.hasOwn(value, "fact");

/**
 * Compile json-rules-engine conditions into a plain closure. Same operators, same
 * coercions, same null handling as the engine (proved by the property test), at a
 * fraction of the cost: the engine deep-clones every rule on every run.
 */
export function compileCondition(condition: Condition): Predicate {
  if (isLeaf(condition)) return compileLeaf(condition);
  if ("all" in condition) {
    const parts = condition.all.map(compileCondition);
    return (facts) => {
      for (const part of parts) if (!part(facts)) return false;
      return true;
    };
  }
  if ("any" in condition) {
    const parts = condition.any.map(compileCondition);
    // json-rules-engine answers true for an empty group, "any" included.
    if (parts.length === 0) return () => true;
    return (facts) => {
      for (const part of parts) if (part(facts)) return true;
      return false;
    };
  }
  const inner = compileCondition(condition.not);
  return (facts) => !inner(facts);
}

/**
 * A leaf as a closure specialised for its operator. A number fact against a literal
 * skips the engine's number validator — `parseFloat(x).toString() !== "NaN"`, a string
 * allocation per test — because for a number it only says "not NaN", and a comparison
 * with NaN is false anyway. Everything else goes through the engine's own operator.
 */
function compileLeaf(leaf: LeafCondition): Predicate {
  const { fact, value } = leaf;
  const evaluate = OPERATORS[leaf.operator].evaluate;
  // The engine's test exactly (almanac.getValue): any object with an own "fact" key
  // is a reference; every other value, objects included, is compared as it is.
  if (isFactReference(value)) {
    const other = value.fact;
    return (facts) => evaluate(facts[fact], facts[other]);
  }
  const v = value as number; // compared with JavaScript's own coercions, as the engine does
  switch (leaf.operator) {
    case "equal":
      return (facts) => facts[fact] === value;
    case "notEqual":
      return (facts) => facts[fact] !== value;
    case "lessThan":
      return (facts) => {
        const a = facts[fact];
        return typeof a === "number" ? a < v : evaluate(a, value);
      };
    case "lessThanInclusive":
      return (facts) => {
        const a = facts[fact];
        return typeof a === "number" ? a <= v : evaluate(a, value);
      };
    case "greaterThan":
      return (facts) => {
        const a = facts[fact];
        return typeof a === "number" ? a > v : evaluate(a, value);
      };
    case "greaterThanInclusive":
      return (facts) => {
        const a = facts[fact];
        return typeof a === "number" ? a >= v : evaluate(a, value);
      };
    default:
      return (facts) => evaluate(facts[fact], value);
  }
}

/** Compiled once per condition node: explanations ask again for every match. */
const compiledNodes = new WeakMap<Condition, Predicate>();
function predicateOf(condition: Condition): Predicate {
  let predicate = compiledNodes.get(condition);
  if (predicate === undefined) {
    predicate = compileCondition(condition);
    compiledNodes.set(condition, predicate);
  }
  return predicate;
}

export interface MatchedLeaf {
  leaf: LeafCondition;
  /** True when the leaf sits under an odd number of "not"s: it held by failing. */
  negated: boolean;
}

/**
 * The leaves that made the condition true: every leaf of a true "all", the true
 * branches of an "any". Used for the explanation, so only run on matches.
 */
export function matchedLeaves(condition: Condition, facts: Facts, negated = false, out: MatchedLeaf[] = []): MatchedLeaf[] {
  if (isLeaf(condition)) {
    out.push({ leaf: condition, negated });
  } else if ("all" in condition) {
    for (const part of condition.all) {
      if (predicateOf(part)(facts) !== negated) matchedLeaves(part, facts, negated, out);
    }
  } else if ("any" in condition) {
    for (const part of condition.any) {
      if (predicateOf(part)(facts) !== negated) matchedLeaves(part, facts, negated, out);
    }
  } else {
    matchedLeaves(condition.not, facts, !negated, out);
  }
  return out;
}

/** Facts a condition reads, including fact references in values. */
export function factsUsed(condition: Condition, out = new Set<string>()): Set<string> {
  if (isLeaf(condition)) {
    out.add(condition.fact);
    if (isFactReference(condition.value)) out.add(condition.value.fact);
  } else if ("all" in condition) for (const part of condition.all) factsUsed(part, out);
  else if ("any" in condition) for (const part of condition.any) factsUsed(part, out);
  else factsUsed(condition.not, out);
  return out;
}

export interface CompiledRule {
  rule: Rule;
  matches: Predicate;
}

export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.filter((rule) => rule.enabled).map((rule) => ({ rule, matches: compileCondition(rule.conditions) }));
}
