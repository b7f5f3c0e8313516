import { defaultRulesText, type RuleFile, type ValidationError, validateRuleFileText } from "@keepwarm/rules";
import { activeRuleSetRow, type Store, saveActiveRuleSet } from "@keepwarm/store";

export interface ActiveRuleSet {
  version: number;
  ruleFile: RuleFile;
  json: string;
}

export class RuleValidationError extends Error {
  override name = "RuleValidationError";
  constructor(readonly errors: ValidationError[]) {
    super(`rule file is invalid: ${errors.length} error${errors.length === 1 ? "" : "s"}`);
  }
}

function parseStored(version: number, json: string): ActiveRuleSet {
  const result = validateRuleFileText(json);
  // A stored version was valid when saved; if the schema tightened since, say so plainly.
  if (!result.valid) throw new RuleValidationError(result.errors);
  return { version, ruleFile: result.ruleFile, json };
}

export async function getActiveRuleSet(store: Store): Promise<ActiveRuleSet | undefined> {
  const row = await activeRuleSetRow(store.db);
  return row === undefined ? undefined : parseStored(row.id, row.json);
}

/** The active rule set; on first use the shipped default file becomes version 1. */
export async function ensureActiveRuleSet(store: Store): Promise<ActiveRuleSet> {
  const active = await getActiveRuleSet(store);
  if (active !== undefined) return active;
  const applied = await applyRuleSet(store, defaultRulesText(), { author: "keepwarm", source: "default rules" });
  return applied.ruleSet;
}

export interface ApplyOptions {
  author: string;
  source: string;
  note?: string;
  now?: number;
  /** Refuse (RuleSetConflictError) unless this version (0 = none) is still the active one when writing. */
  expectedActiveVersion?: number;
}

/** The active rules changed between a review and the save that was based on it. */
export class RuleSetConflictError extends Error {
  override name = "RuleSetConflictError";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`the active rules changed meanwhile (expected v${expected}, now v${actual}); nothing was saved`);
  }
}

/**
 * Validate and store a new active version. An invalid file throws before anything is
 * written, so it can never replace the active rules. Applying the active text again
 * creates no version.
 */
export async function applyRuleSet(store: Store, text: string, options: ApplyOptions): Promise<{ ruleSet: ActiveRuleSet; changed: boolean }> {
  const result = validateRuleFileText(text);
  if (!result.valid) throw new RuleValidationError(result.errors);
  const canonical = JSON.stringify(JSON.parse(text));
  const sameAsActive = (json: string) => JSON.stringify(JSON.parse(json)) === canonical;
  const current = await activeRuleSetRow(store.db);
  if (current !== undefined && sameAsActive(current.json)) {
    return { ruleSet: { version: current.id, ruleFile: result.ruleFile, json: current.json }, changed: false };
  }
  // Checked again inside the write transaction: nothing can slip in between check and save.
  const saved = await saveActiveRuleSet(store.db, {
    json: text,
    author: options.author,
    source: options.source,
    note: options.note ?? null,
    createdAt: options.now ?? Date.now(),
    sameAsActive,
    ...(options.expectedActiveVersion === undefined ? {} : { expectedActiveVersion: options.expectedActiveVersion }),
  });
  if (saved.saved) return { ruleSet: { version: saved.id, ruleFile: result.ruleFile, json: text }, changed: true };
  if (saved.reason === "conflict") throw new RuleSetConflictError(options.expectedActiveVersion ?? 0, saved.activeId);
  const active = (await activeRuleSetRow(store.db)) ?? { id: saved.activeId, json: text };
  return { ruleSet: { version: active.id, ruleFile: result.ruleFile, json: active.json }, changed: false };
}
