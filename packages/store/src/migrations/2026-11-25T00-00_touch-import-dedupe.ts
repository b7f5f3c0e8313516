import { type Kysely, sql } from "kysely";

/**
 * Imported touches are deduplicated by an integer content hash next to
 * (customer_id, occurred_at), instead of a SHA-1 text key in an index of its own.
 * The one index now serves both the per-customer time lookups and the dedupe
 * guarantee: a touch insert writes two B-trees (table + this index) instead of three,
 * and rows of one customer land next to each other instead of on random pages.
 * Touches that are not imported keep dedupe_hash NULL, and NULLs never conflict in a
 * UNIQUE index, so only imports are deduplicated, as before. The importer resolves
 * hash collisions by comparing the stored content (see import/touch-dedupe.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE touchpoints ADD COLUMN dedupe_hash INTEGER").execute(db);
  await sql.raw("DROP INDEX touchpoints_customer_time").execute(db);
  await sql.raw("CREATE UNIQUE INDEX touchpoints_customer_time ON touchpoints (customer_id, occurred_at, dedupe_hash)").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX touchpoints_customer_time").execute(db);
  await sql.raw("CREATE INDEX touchpoints_customer_time ON touchpoints (customer_id, occurred_at)").execute(db);
  await sql.raw("ALTER TABLE touchpoints DROP COLUMN dedupe_hash").execute(db);
}
