import { defaultRulesText, type RuleFile, type ValidationError, validateRuleFileText } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";

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
  const row = await store.db.selectFrom("rule_sets").select(["id", "json"]).where("active", "=", 1).executeTakeFirst();
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
  const current = await store.db.selectFrom("rule_sets").select(["id", "json"]).where("active", "=", 1).executeTakeFirst();
  if (current !== undefined && JSON.stringify(JSON.parse(current.json)) === canonical) {
    return { ruleSet: { version: current.id, ruleFile: result.ruleFile, json: current.json }, changed: false };
  }
  const now = options.now ?? Date.now();
  const version = store.sqlite
    .transaction(() => {
      if (options.expectedActiveVersion !== undefined) {
        // Checked inside the write transaction: nothing can slip in between check and save.
        const active = (store.sqlite.prepare("SELECT id FROM rule_sets WHERE active = 1").pluck().get() as number | undefined) ?? 0;
        if (active !== options.expectedActiveVersion) throw new RuleSetConflictError(options.expectedActiveVersion, active);
      }
      store.sqlite.prepare("UPDATE rule_sets SET active = 0 WHERE active = 1").run();
      const info = store.sqlite
        .prepare("INSERT INTO rule_sets (json, author, source, created_at, active, note) VALUES (?, ?, ?, ?, 1, ?)")
        .run(text, options.author, options.source, now, options.note ?? null);
      return Number(info.lastInsertRowid);
    })
    .immediate();
  return { ruleSet: { version, ruleFile: result.ruleFile, json: text }, changed: true };
}
