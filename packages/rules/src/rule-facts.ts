import { factsUsed } from "./compile";
import { FACTS } from "./facts/catalog";
import { buildFactProgram, type FactProgram } from "./facts/program";
import { healthModel } from "./health";
import type { Rule, RuleFile } from "./rule-file";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Facts a nudge template names: {{daysSinceLastTouch}}, {{attributes.region}}. */
export function templateFacts(template: string): string[] {
  const names: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name !== undefined && (FACTS.get(name) !== undefined || name.startsWith("attributes."))) names.push(name);
  }
  return names;
}

/** Every fact the enabled rules read: their conditions and their messages. */
export function factsOfRules(rules: readonly Rule[]): Set<string> {
  const names = new Set<string>();
  for (const rule of rules) {
    if (!rule.enabled) continue;
    factsUsed(rule.conditions, names);
    for (const name of templateFacts(rule.nudge.message)) names.add(name);
  }
  return names;
}

/**
 * The fact program of a rule file: only the facts its enabled rules read (and what
 * those derive from), so a fact no rule uses costs the sweep nothing. `extra` adds
 * facts a caller shows besides (the health score on a customer summary).
 */
export function ruleFileProgram(ruleFile: RuleFile, extra: Iterable<string> = []): FactProgram {
  const health = ruleFile.health === undefined ? undefined : healthModel(ruleFile.health);
  return buildFactProgram([...factsOfRules(ruleFile.rules), ...extra], { health });
}
