import { sql } from "../packages/store/node_modules/kysely/dist/esm/index.js";
import { createPostgresDatabase, type Database, dropPostgresDatabases, openStore } from "../packages/store/src/index";

/** Where `--engine postgres` runs when no `--db postgres://…` names a server: the local one, as the tests use. */
export const DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** The tables benchmark data lives in, parents first; nudges and runs are the sweep's own. */
const DATA_TABLES = ["customers", "touchpoints", "nps_responses", "purchases", "rule_sets"] as const satisfies ReadonlyArray<keyof Database>;
const PAGE = 5_000;
/** Rows per INSERT: under PostgreSQL's bound-parameter limit at 14 columns. */
const BATCH = 1_000;

/**
 * A fresh PostgreSQL database (created next to `adminUrl`) holding a copy of the
 * benchmark data generated on SQLite in `source`: same ids, same rows, analyzed, so
 * both engines run on the same data. `drop()` removes it.
 */
export async function postgresCopyOf(adminUrl: string, source: string): Promise<{ url: string; ms: number; drop(): Promise<void> }> {
  const started = performance.now();
  const name = `kwbench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = await createPostgresDatabase(adminUrl, name);
  const drop = async () => {
    await dropPostgresDatabases(adminUrl, name);
  };
  try {
    const from = await openStore(source, { migrate: false });
    const to = await openStore(url);
    try {
      for (const table of DATA_TABLES) {
        let after = 0;
        for (;;) {
          const rows = (await from.db.selectFrom(table).selectAll().where("id", ">", after).orderBy("id").limit(PAGE).execute()) as Array<{ id: number }>;
          for (let start = 0; start < rows.length; start += BATCH) {
            await to.db
              .insertInto(table)
              .values(rows.slice(start, start + BATCH) as never)
              .execute();
          }
          if (rows.length < PAGE) break;
          after = (rows[rows.length - 1] as { id: number }).id;
        }
      }
      // Copied ids do not advance the identity sequences: start them past the copied rows.
      for (const table of DATA_TABLES) {
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), coalesce((SELECT max(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(to.db);
      }
      // Fresh statistics, as autovacuum would gather them after a bulk load in production.
      await sql`ANALYZE`.execute(to.db);
    } finally {
      await from.close();
      await to.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { url, ms: performance.now() - started, drop };
}
