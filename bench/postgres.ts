import { copyStore, createPostgresDatabase, dropPostgresDatabases, openStore } from "../packages/store/src/index";

/** Where `--engine postgres` runs when no `--db postgres://…` names a server: the local one, as the tests use. */
export const DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

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
      // The benchmark's data goes over as a user's install would: `keepwarm db copy`.
      await copyStore(from, to);
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
