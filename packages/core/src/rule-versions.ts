import type { Rule, RuleFile } from "@keepwarm/rules";
import { activeRuleSetRow, latestRuleSetId, listRuleSetRows, ruleSetRow, type Store } from "@keepwarm/store";
import { UserError } from "./errors";
import { type ActiveRuleSet, applyRuleSet } from "./rule-sets";

export interface RuleSetVersion {
  version: number;
  createdAt: number;
  author: string;
  source: string;
  active: boolean;
  /** null when the stored JSON no longer parses (it was valid when saved). */
  ruleCount: number | null;
  note: string | null;
}

type RuleSetRowLite = Awaited<ReturnType<typeof listRuleSetRows>>[number];

function countRules(json: string): number | null {
  try {
    const value: unknown = JSON.parse(json);
    const rules = (value as { rules?: unknown } | null)?.rules;
    return Array.isArray(rules) ? rules.length : null;
  } catch {
    return null;
  }
}

const toVersion = (row: RuleSetRowLite): RuleSetVersion => ({
  version: row.id,
  createdAt: row.created_at,
  author: row.author,
  source: row.source,
  active: row.active === 1,
  ruleCount: countRules(row.json),
  note: row.note,
});

/** Every stored version, oldest first. History is append-only. */
export async function listRuleSetVersions(store: Store): Promise<RuleSetVersion[]> {
  return (await listRuleSetRows(store.db)).map(toVersion);
}

/** One version with its JSON exactly as stored; undefined when it does not exist. */
export async function getRuleSetVersion(store: Store, version: number): Promise<(RuleSetVersion & { json: string }) | undefined> {
  const row = await ruleSetRow(store.db, version);
  return row === undefined ? undefined : { ...toVersion(row), json: row.json };
}

async function unknownVersion(store: Store, version: number): Promise<UserError> {
  const latest = await latestRuleSetId(store.db);
  const range = latest === undefined ? "no rule versions are stored yet (run keepwarm init)" : `versions are 1–${latest}`;
  return new UserError(`unknown rules version ${version}: ${range}`, "unknown_version");
}

/** The JSON of the active version (or of `version`), exactly as stored. */
export async function exportRuleSet(store: Store, version?: number): Promise<{ version: number; json: string }> {
  if (version !== undefined) {
    const found = await getRuleSetVersion(store, version);
    if (found === undefined) throw await unknownVersion(store, version);
    return { version, json: found.json };
  }
  const active = await activeRuleSetRow(store.db);
  if (active === undefined) throw new UserError("no rules are active yet (run keepwarm init)", "no_active_rules");
  return { version: active.id, json: active.json };
}

/**
 * Make an old version's JSON active again, as a NEW version: history stays
 * append-only, so a rollback can itself be rolled back.
 */
export async function rollbackRuleSet(
  store: Store,
  version: number,
  options: { author: string; now?: number },
): Promise<{ ruleSet: ActiveRuleSet; changed: boolean; from: number }> {
  const target = await getRuleSetVersion(store, version);
  if (target === undefined) throw await unknownVersion(store, version);
  const { ruleSet, changed } = await applyRuleSet(store, target.json, {
    author: options.author,
    source: `rollback of v${version}`,
    note: `rollback to v${version}`,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { ruleSet, changed, from: version };
}

export type RuleChangeStatus = "added" | "removed" | "changed" | "unchanged";

export interface FieldChange {
  /** Path inside the rule, e.g. "conditions.all[1].value" or "nudge.cooldownDays". */
  path: string;
  before: unknown;
  after: unknown;
}

export interface RuleDiffEntry {
  ruleId: string;
  name: string;
  status: RuleChangeStatus;
  /** Top-level fields that differ: "conditions", "enabled", "nudge.cooldownDays", … */
  fields: string[];
  changes: FieldChange[];
}

export interface RuleDiff {
  rules: RuleDiffEntry[];
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

/** Leaf-level differences between two JSON values, so a reviewer sees "value: 30 → 21". */
function jsonChanges(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const key of keys) jsonChanges(before[key], after[key], joinPath(path, key), out);
    return;
  }
  // Position by position: an appended condition shows as "all[2]: (none) → {…}".
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let index = 0; index < Math.max(before.length, after.length); index++) jsonChanges(before[index], after[index], joinPath(path, index), out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, before, after });
}

function fieldOf(path: string): string {
  const [head, second] = path.split(/[.[]/, 2);
  return head === "nudge" && second !== undefined ? `nudge.${second}` : (head ?? path);
}

/**
 * Rule-by-rule comparison of two rule files, on their validated form (defaults
 * applied), so writing out a default explicitly is not a change.
 */
export function diffRuleFiles(before: RuleFile | undefined, after: RuleFile): RuleDiff {
  const old = new Map((before?.rules ?? []).map((rule) => [rule.id, rule]));
  const entries: RuleDiffEntry[] = [];
  for (const rule of after.rules) {
    const previous = old.get(rule.id);
    if (previous === undefined) {
      entries.push({ ruleId: rule.id, name: rule.name, status: "added", fields: [], changes: [] });
      continue;
    }
    const changes: FieldChange[] = [];
    jsonChanges(previous satisfies Rule, rule, "", changes);
    const fields = [...new Set(changes.map((change) => fieldOf(change.path)))];
    entries.push({ ruleId: rule.id, name: rule.name, status: changes.length === 0 ? "unchanged" : "changed", fields, changes });
  }
  const kept = new Set(after.rules.map((rule) => rule.id));
  for (const rule of before?.rules ?? []) {
    if (!kept.has(rule.id)) entries.push({ ruleId: rule.id, name: rule.name, status: "removed", fields: [], changes: [] });
  }
  const count = (status: RuleChangeStatus) => entries.filter((entry) => entry.status === status).length;
  return { rules: entries, added: count("added"), removed: count("removed"), changed: count("changed"), unchanged: count("unchanged") };
}

/** One line for announcements and logs: "1 added, 2 changed (no-contact: conditions), 1 removed". */
export function diffSummary(diff: RuleDiff): string {
  const parts: string[] = [];
  const ids = (status: RuleChangeStatus) => diff.rules.filter((entry) => entry.status === status).map((entry) => entry.ruleId);
  if (diff.added > 0) parts.push(`${diff.added} added (${ids("added").join(", ")})`);
  if (diff.changed > 0) {
    const detail = diff.rules.filter((entry) => entry.status === "changed").map((entry) => `${entry.ruleId}: ${entry.fields.join(", ")}`);
    parts.push(`${diff.changed} changed (${detail.join("; ")})`);
  }
  if (diff.removed > 0) parts.push(`${diff.removed} removed (${ids("removed").join(", ")})`);
  return parts.length === 0 ? "no rule changes" : parts.join(", ");
}
