import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * `/touch c-1042` finds a customer by id in any case (`external_id = ? COLLATE NOCASE`),
 * and the parser tries that for every leading run of words. The UNIQUE index on
 * external_id is binary, so each such lookup scanned the whole customers table
 * (≈ 0.25 ms at 10k customers, ≈ 1.6 ms per /touch; 100 × that at 1M).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const column = isPostgres(db) ? "(lower(external_id))" : "(external_id COLLATE NOCASE)";
  await sql.raw(`CREATE INDEX IF NOT EXISTS customers_external_id_nocase ON customers ${column}`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS customers_external_id_nocase").execute(db);
}
