import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * Outbox claims, so several bots can deliver from one database: a delivery pass marks
 * the items it will post as its own (`claimed_by`) until `claimed_until`, and others
 * leave them alone. A claim that outlives a killed process simply expires. Finished
 * items drop their claim, so the partial index holds only the items in flight.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const instant = isPostgres(db) ? "BIGINT" : "INTEGER";
  await sql.raw("ALTER TABLE outbox ADD COLUMN claimed_by TEXT").execute(db);
  await sql.raw(`ALTER TABLE outbox ADD COLUMN claimed_until ${instant}`).execute(db);
  await sql.raw("CREATE INDEX outbox_claimed ON outbox (claimed_by, claimed_until) WHERE claimed_by IS NOT NULL").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS outbox_claimed").execute(db);
  await sql.raw("ALTER TABLE outbox DROP COLUMN claimed_until").execute(db);
  await sql.raw("ALTER TABLE outbox DROP COLUMN claimed_by").execute(db);
}
