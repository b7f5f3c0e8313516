import type { Calendar, RuleFile } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { getActiveRuleSet } from "./rule-sets";
import { diffRuleFiles, type RuleChangeStatus } from "./rule-versions";
import { findMatches, type Match } from "./sweep";

export interface RulePreviewEntry {
  ruleId: string;
  status: RuleChangeStatus;
  /** Customers matching under the active version. */
  before: number;
  /** Customers matching under the candidate. */
  after: number;
  /** Customers the candidate adds, capped at sampleSize; addedCount is the full number. */
  added: Array<{ customerId: string; name: string; explanation: string }>;
  removed: Array<{ customerId: string; name: string }>;
  addedCount: number;
  removedCount: number;
}

export interface RulePreview {
  /** 0 when no version is active yet. */
  activeVersion: number;
  evaluated: number;
  asOf: number;
  rules: RulePreviewEntry[];
}

export interface PreviewOptions {
  calendar: Calendar;
  now?: number;
  /** Samples per rule and direction; default 10. */
  sampleSize?: number;
}

function byRule(matches: readonly Match[]): Map<string, Map<number, Match>> {
  const out = new Map<string, Map<number, Match>>();
  for (const match of matches) {
    const customers = out.get(match.rule.id) ?? new Map<number, Match>();
    out.set(match.rule.id, customers);
    customers.set(match.customerId, match);
  }
  return out;
}

/**
 * What the candidate would nudge on today's data, compared with the active version,
 * rule by rule. Read-only: it evaluates both with findMatches and writes nothing
 * (it does not even activate the default rules when none are active).
 */
export async function previewRuleSet(store: Store, candidate: RuleFile, options: PreviewOptions): Promise<RulePreview> {
  const now = options.now ?? Date.now();
  const sampleSize = Math.max(0, options.sampleSize ?? 10);
  const active = await getActiveRuleSet(store);
  const before = active === undefined ? { evaluated: 0, matches: [] } : await findMatches(store, active, { calendar: options.calendar, now });
  const after = await findMatches(store, { version: 0, ruleFile: candidate, json: "" }, { calendar: options.calendar, now });
  const beforeByRule = byRule(before.matches);
  const afterByRule = byRule(after.matches);
  const diff = diffRuleFiles(active?.ruleFile, candidate);
  const rules = diff.rules.map((entry): RulePreviewEntry => {
    const was = beforeByRule.get(entry.ruleId) ?? new Map<number, Match>();
    const will = afterByRule.get(entry.ruleId) ?? new Map<number, Match>();
    const added = [...will.values()].filter((match) => !was.has(match.customerId));
    const removed = [...was.values()].filter((match) => !will.has(match.customerId));
    return {
      ruleId: entry.ruleId,
      status: entry.status,
      before: was.size,
      after: will.size,
      added: added.slice(0, sampleSize).map((m) => ({ customerId: m.customerExternalId, name: m.customerName, explanation: m.explanation })),
      removed: removed.slice(0, sampleSize).map((m) => ({ customerId: m.customerExternalId, name: m.customerName })),
      addedCount: added.length,
      removedCount: removed.length,
    };
  });
  return { activeVersion: active?.version ?? 0, evaluated: after.evaluated, asOf: now, rules };
}
