import { createPostgresDatabase } from "../engine/scratch";

/**
 * The engine the suite runs on: `KEEPWARM_TEST_ENGINE=postgres` runs every test that
 * asks for a database on PostgreSQL (`KEEPWARM_TEST_PG_URL`, default the local server).
 */
export const TEST_ENGINE: "sqlite" | "postgres" = process.env.KEEPWARM_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
export const TEST_PG_ADMIN_URL = process.env.KEEPWARM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** Every database the tests create starts with this; globalSetup drops them. */
export const TEST_DB_PREFIX = "kwtest_";

let counter = 0;

/**
 * A fresh, empty KEEPWARM_DB for one test: a file in `dir` on SQLite, a new database
 * on PostgreSQL. Either way the value is what a user would put in KEEPWARM_DB.
 */
export async function freshDatabase(dir: { file(name: string): string }, name = "keepwarm.db"): Promise<string> {
  if (TEST_ENGINE === "sqlite") return dir.file(name);
  counter++;
  const run = process.env.KEEPWARM_TEST_RUN ?? `${TEST_DB_PREFIX}${process.pid}_`;
  const unique = `${run}${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
  return createPostgresDatabase(TEST_PG_ADMIN_URL, unique);
}
