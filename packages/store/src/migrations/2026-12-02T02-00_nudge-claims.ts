import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * Who took an unowned customer from the fallback channel ("I'll take it") and when:
 * the click makes them the customer's owner, and the nudge remembers it so its message
 * can say who took it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges ADD COLUMN claimed_by TEXT").execute(db);
  await sql.raw(`ALTER TABLE nudges ADD COLUMN claimed_at ${isPostgres(db) ? "BIGINT" : "INTEGER"}`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges DROP COLUMN claimed_at").execute(db);
  await sql.raw("ALTER TABLE nudges DROP COLUMN claimed_by").execute(db);
}
