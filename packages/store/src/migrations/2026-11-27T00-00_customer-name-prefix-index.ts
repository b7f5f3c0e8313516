import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * `/touch acme` finds a customer by a unique prefix of its name, in any case. On
 * SQLite the NOCASE index on name serves `name LIKE 'acme%'`. PostgreSQL uses a B-tree
 * for LIKE only under the "C" collation or with the pattern operator class, so the
 * plain `lower(name)` index left every prefix lookup a scan of all customers in a
 * database created with any other collation (C.UTF-8 and en_US.UTF-8 included).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw("CREATE INDEX IF NOT EXISTS customers_name_prefix ON customers (lower(name) text_pattern_ops)").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw("DROP INDEX IF EXISTS customers_name_prefix").execute(db);
}
