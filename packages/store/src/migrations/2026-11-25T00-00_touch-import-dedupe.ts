import { type Kysely, sql } from "kysely";

/**
 * Imported touches are deduplicated by an integer content hash next to
 * (customer_id, occurred_at), instead of a SHA-1 text key in an index of its own: the
 * SHA-1 keys landed on random pages of a large index, while these entries sit with the
 * customer's other touches. Touches that are not imported keep dedupe_hash NULL and
 * stay out of this partial index, so only imports are deduplicated, as before. The
 * importer resolves hash collisions by comparing the stored content
 * (packages/core/src/import/touch-dedupe.ts). touchpoints_customer_time stays as it is:
 * the fact scans rely on its (customer_id, occurred_at, id) order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE touchpoints ADD COLUMN dedupe_hash INTEGER").execute(db);
  await sql
    .raw("CREATE UNIQUE INDEX touchpoints_import_dedupe ON touchpoints (customer_id, occurred_at, dedupe_hash) WHERE dedupe_hash IS NOT NULL")
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS touchpoints_import_dedupe").execute(db);
  await sql.raw("ALTER TABLE touchpoints DROP COLUMN dedupe_hash").execute(db);
}
