import { describe, expect, it } from "vitest";
import { compileCondition, compileRules } from "../src/compile";
import { FACTS, type Facts, type FactValue } from "../src/facts/index";
import { OPERATOR_NAMES, type OperatorName } from "../src/operators";
import { matchingRuleIds } from "../src/reference-engine";
import type { Condition, ConditionValue, Rule, TopCondition } from "../src/rule-file";
import { validateRuleFile } from "../src/validate";

/**
 * json-rules-engine 7.3.1 is the definition of what a rule means; the sweep runs the
 * compiled predicates instead. These tests throw thousands of seeded random
 * conditions and fact objects at both and demand the same answer every time.
 *
 * Level tested: compileCondition directly, over the FULL operator space of the
 * compiled path (all eight operators, each with values of every type — null,
 * numbers, numeric strings, booleans, lists, fact references, empty groups,
 * objects that are not fact references), most of which the validator would refuse.
 * The one exclusion: "in"/"notIn" against a value with no indexOf (null, a number,
 * a boolean, a fact reference), where the engine itself throws a TypeError rather
 * than answering. A second test runs validated rule files (validateRuleFile) through
 * compileRules, several rules per engine, as the sweep does.
 */

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// The fact space is the catalog's: a new fact is in these tests the moment it is defined.
const factsOfType = (type: string) => FACTS.definitions.filter((f) => f.type === type).map((f) => f.name);
const NUMBER_FACTS = factsOfType("number");
const STRING_FACTS = factsOfType("string");
const BOOLEAN_FACTS = factsOfType("boolean");
const ATTRIBUTE_FACTS = ["attributes.plan", "attributes.seats", "attributes.beta", "attributes.region"];
const ALL_FACTS = [...NUMBER_FACTS, ...STRING_FACTS, ...BOOLEAN_FACTS, ...ATTRIBUTE_FACTS];

/** Small domains, so equalities and boundaries are hit often. */
const NUMBERS = [-10, -3, -1, 0, -0, 0.5, 1, 3, 6, 7, 9, 10, 12, 14, 30, 1250.5, Number.NaN, Number.POSITIVE_INFINITY];
const NUMERIC_STRINGS = ["12", "0", "-3", "7.5", " 7", "10abc", "1e1", "", "NaN", "Infinity", "0x10"];
const WORDS = ["enterprise", "smb", "gold", "call", "detractor", "true", "null", "ent"];

function scalar(g: Gen): FactValue {
  switch (g.int(0, 4)) {
    case 0:
      return null;
    case 1:
      return g.pick(NUMBERS);
    case 2:
      return g.pick(NUMERIC_STRINGS);
    case 3:
      return g.pick(WORDS);
    default:
      return g.chance(0.5);
  }
}

function randomFacts(g: Gen): Facts {
  const facts: Facts = {};
  for (const name of ALL_FACTS) {
    if (g.chance(0.15)) continue; // missing: the engine sees undefined
    if (ATTRIBUTE_FACTS.includes(name)) facts[name] = scalar(g);
    else if (g.chance(0.2))
      facts[name] = scalar(g); // off-type values, as a bad attribute might be
    else if (NUMBER_FACTS.includes(name)) facts[name] = g.chance(0.2) ? null : g.pick(NUMBERS);
    else if (STRING_FACTS.includes(name)) facts[name] = g.chance(0.2) ? null : g.pick(WORDS);
    else facts[name] = g.chance(0.5);
  }
  return facts;
}

const list = (g: Gen): Array<string | number | boolean> =>
  Array.from({ length: g.int(0, 4) }, () => scalar(g)).filter((v): v is string | number | boolean => v !== null);

function anyValue(g: Gen, operator: OperatorName): ConditionValue {
  if (operator === "in" || operator === "notIn") {
    // Anything else makes the engine throw (`b.indexOf is not a function`).
    return g.chance(0.8) ? list(g) : g.pick([...WORDS, ...NUMERIC_STRINGS]);
  }
  switch (g.int(0, 5)) {
    case 0:
      return { fact: g.pick([...ALL_FACTS, "attributes.missing"]) };
    case 1:
      return list(g);
    case 2:
      // Not a fact reference: the engine compares against the object itself.
      return (g.chance(0.5) ? {} : { other: "x" }) as unknown as ConditionValue;
    default:
      return scalar(g);
  }
}

function randomCondition(g: Gen, depth: number): Condition {
  if (depth >= 4 || g.chance(depth === 0 ? 0 : 0.45)) {
    const operator = g.pick(OPERATOR_NAMES);
    return { fact: g.pick([...ALL_FACTS, "attributes.missing"]), operator, value: anyValue(g, operator) };
  }
  const kind = g.pick(["all", "any", "not"] as const);
  if (kind === "not") return { not: randomCondition(g, depth + 1) };
  const size = g.chance(0.05) ? 0 : g.int(1, 4);
  const parts = Array.from({ length: size }, () => randomCondition(g, depth + 1));
  return kind === "all" ? { all: parts } : { any: parts };
}

const ruleOf = (id: string, conditions: TopCondition, enabled = true): Rule => ({
  id,
  name: id,
  enabled,
  conditions,
  nudge: { message: "m", destination: "owner", priority: "normal", cooldownDays: 1, holdoutPercent: 0, resolveOnTouch: true, allowMute: false },
});

describe("compiled predicates agree with json-rules-engine 7.3.1", () => {
  it("on 4000 random conditions over the full operator space and random facts", async () => {
    const g = new Gen(prng(20261123));
    const disagreements: string[] = [];
    let matched = 0;
    for (let i = 0; i < 4000; i++) {
      const conditions = randomCondition(g, 0) as TopCondition;
      const predicate = compileCondition(conditions);
      for (let j = 0; j < 3; j++) {
        const facts = randomFacts(g);
        const engine = (await matchingRuleIds([ruleOf("r", conditions)], facts)).length === 1;
        const compiled = predicate(facts);
        if (compiled) matched++;
        if (engine !== compiled && disagreements.length < 5) {
          disagreements.push(`case ${i}.${j}: engine ${engine}, compiled ${compiled}\n  ${JSON.stringify(conditions)}\n  ${JSON.stringify(facts)}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    // Both outcomes must be common, or agreement would prove little.
    expect(matched).toBeGreaterThan(12000 * 0.2);
    expect(matched).toBeLessThan(12000 * 0.8);
  });

  it("on 1500 random validated rule files, several rules per run, disabled rules skipped", async () => {
    const g = new Gen(prng(7));
    const disagreements: string[] = [];
    let validated = 0;
    let matches = 0;
    while (validated < 1500) {
      const raw = {
        rules: Array.from({ length: g.int(1, 4) }, (_, k) => ({
          id: `rule-${k}`,
          name: `rule ${k}`,
          enabled: g.chance(0.85),
          conditions: randomCondition(g, 0),
          nudge: { message: "m" },
        })),
        // So the health facts validate too.
        health: { default: { components: [{ fact: "daysSinceLastTouch", weight: 1, bands: [{ max: 14, score: 100 }, { score: 0 }] }] } },
      };
      const result = validateRuleFile(raw);
      if (!result.valid) continue;
      validated++;
      const rules = result.ruleFile.rules;
      const compiled = compileRules(rules);
      for (let j = 0; j < 4; j++) {
        const facts = randomFacts(g);
        const engine = (await matchingRuleIds(rules, facts)).sort();
        const fast = compiled
          .filter((c) => c.matches(facts))
          .map((c) => c.rule.id)
          .sort();
        matches += fast.length;
        if (JSON.stringify(engine) !== JSON.stringify(fast) && disagreements.length < 5) {
          disagreements.push(`engine ${engine}, compiled ${fast}\n  ${JSON.stringify(rules.map((r) => r.conditions))}\n  ${JSON.stringify(facts)}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(matches).toBeGreaterThan(500);
  });
});
