import { createPostgresDatabase } from "../engine/scratch";

/**
 * The engine the suite runs on: `KEEPWARM_TEST_ENGINE=postgres` runs every test that
 * asks for a database on PostgreSQL (`KEEPWARM_TEST_PG_URL`, default the local server).
 */
export const TEST_ENGINE: "sqlite" | "postgres" = process.env.KEEPWARM_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
export const TEST_PG_ADMIN_URL = process.env.KEEPWARM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** Every database the tests create starts with this; globalSetup drops them. */
export const TEST_DB_PREFIX = "kwtest_";
/** The run's migrated template on PostgreSQL: `<run prefix>template`, made by globalSetup. */
export const TEMPLATE_SUFFIX = "template";

let counter = 0;

function uniqueName(): string {
  counter++;
  const run = process.env.KEEPWARM_TEST_RUN ?? `${TEST_DB_PREFIX}${process.pid}_`;
  return `${run}${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A fresh, empty KEEPWARM_DB for one test: a file in `dir` on SQLite, a new database
 * on PostgreSQL. Either way the value is what a user would put in KEEPWARM_DB. Tests
 * of a database without the schema (init, doctor, db copy, migrations) need this one;
 * a test that opens its database at once takes migratedDatabase, cheaper on PostgreSQL.
 */
export async function freshDatabase(dir: { file(name: string): string }, name = "keepwarm.db"): Promise<string> {
  if (TEST_ENGINE === "sqlite") return dir.file(name);
  return createPostgresDatabase(TEST_PG_ADMIN_URL, uniqueName());
}

/**
 * A fresh KEEPWARM_DB that already holds the current schema, as the first openStore
 * would leave it. On PostgreSQL a copy of the run's template (CREATE DATABASE …
 * TEMPLATE, a fraction of creating a database and running every migration on it); on
 * SQLite a new file in `dir`, which openStore migrates in milliseconds.
 */
export async function migratedDatabase(dir: { file(name: string): string }, name = "keepwarm.db"): Promise<string> {
  if (TEST_ENGINE === "sqlite") return dir.file(name);
  const run = process.env.KEEPWARM_TEST_RUN;
  // Outside a vitest run (no globalSetup, no template): an empty database, migrated on open.
  return createPostgresDatabase(TEST_PG_ADMIN_URL, uniqueName(), run === undefined ? undefined : `${run}${TEMPLATE_SUFFIX}`);
}
