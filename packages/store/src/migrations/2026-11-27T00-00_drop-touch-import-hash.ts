import { type Kysely, sql } from "kysely";

/**
 * Undoes 2026-11-25T00-00_touch-import-dedupe (kept, since databases of this
 * development round already ran it): the touch importer now deduplicates on the exact
 * stored content, looked up in touchpoints_customer_time under the import's write
 * lock, which needs no hash column and no index of its own
 * (packages/core/src/import/touch-dedupe.ts). An early version of that migration
 * replaced touchpoints_customer_time by a UNIQUE index with the hash in it; it is
 * rebuilt as the initial migration defined it, whichever version ran.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS touchpoints_import_dedupe").execute(db);
  await sql.raw("DROP INDEX IF EXISTS touchpoints_customer_time").execute(db);
  await sql.raw("CREATE INDEX touchpoints_customer_time ON touchpoints (customer_id, occurred_at)").execute(db);
  await sql.raw("ALTER TABLE touchpoints DROP COLUMN dedupe_hash").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE touchpoints ADD COLUMN dedupe_hash INTEGER").execute(db);
  await sql
    .raw("CREATE UNIQUE INDEX touchpoints_import_dedupe ON touchpoints (customer_id, occurred_at, dedupe_hash) WHERE dedupe_hash IS NOT NULL")
    .execute(db);
}
