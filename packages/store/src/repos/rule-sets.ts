import { sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { type Db, writeTransaction } from "../engine/transaction";
import type { RuleSetRow } from "../tables/rule-sets.table";

/** The active version's id and JSON; undefined before any rules were saved. */
export async function activeRuleSetRow(db: Db): Promise<{ id: number; json: string } | undefined> {
  return db.selectFrom("rule_sets").select(["id", "json"]).where("active", "=", 1).executeTakeFirst();
}

/** Every stored version, oldest first. */
export async function listRuleSetRows(db: Db): Promise<RuleSetRow[]> {
  return db.selectFrom("rule_sets").selectAll().orderBy("id").execute();
}

export async function ruleSetRow(db: Db, id: number): Promise<RuleSetRow | undefined> {
  return db.selectFrom("rule_sets").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The newest version number; undefined when none is stored. */
export async function latestRuleSetId(db: Db): Promise<number | undefined> {
  const row = await db
    .selectFrom("rule_sets")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return row?.id ?? undefined;
}

export interface RuleSetSave {
  json: string;
  author: string;
  source: string;
  note: string | null;
  createdAt: number;
  /** Save only if this version (0 = none) is still the active one. */
  expectedActiveVersion?: number;
  /** Save nothing when the active JSON is the same as this, by this test. */
  sameAsActive?: (activeJson: string) => boolean;
}

export type RuleSetSaveResult =
  | { saved: true; id: number }
  | { saved: false; reason: "conflict"; activeId: number }
  | { saved: false; reason: "unchanged"; activeId: number };

/**
 * Store a new active version, the previous one deactivated, in one transaction that
 * also checks what the save was based on: nothing can slip in between the check and
 * the write. Saves are serialized (SQLite's write lock; a transaction-scoped advisory
 * lock on PostgreSQL, whose READ COMMITTED would otherwise let two saves both pass the
 * check and collide on the one-active index).
 */
export async function saveActiveRuleSet(db: Db, save: RuleSetSave): Promise<RuleSetSaveResult> {
  return writeTransaction(db, async (trx) => {
    if (isPostgres(trx)) await sql`SELECT pg_advisory_xact_lock(hashtext('keepwarm.rule_sets'))`.execute(trx);
    const active = await activeRuleSetRow(trx);
    const activeId = active?.id ?? 0;
    if (save.expectedActiveVersion !== undefined && activeId !== save.expectedActiveVersion) return { saved: false, reason: "conflict", activeId };
    if (active !== undefined && save.sameAsActive?.(active.json)) return { saved: false, reason: "unchanged", activeId };
    await trx.updateTable("rule_sets").set({ active: 0 }).where("active", "=", 1).execute();
    const row = await trx
      .insertInto("rule_sets")
      .values({ json: save.json, author: save.author, source: save.source, created_at: save.createdAt, active: 1, note: save.note })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { saved: true, id: Number(row.id) };
  });
}
