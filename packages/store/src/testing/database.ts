import { createPostgresDatabase } from "../engine/scratch";
import { keepForThisFile, learnTemplateShape, type ReuseOptions, releaseEarlierFiles, takeReusedDatabase } from "./reuse";

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
/**
 * Every test database's sessions commit without waiting for the WAL to reach the disk
 * (each commit waited on an fsync, milliseconds apiece on this VM). What a commit makes
 * visible, and when, is unchanged; only a server crash could lose the last commits.
 */
export const TEST_DB_SETTINGS = { synchronous_commit: "off" };

let counter = 0;
const REUSE: ReuseOptions = { adminUrl: TEST_PG_ADMIN_URL, newName: () => uniqueName() };

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
  await releaseEarlierFiles(REUSE);
  const url = await createPostgresDatabase(TEST_PG_ADMIN_URL, uniqueName(), undefined, TEST_DB_SETTINGS);
  // Most of these end up migrated by their test: then they serve later files as migrated ones.
  await keepForThisFile(url);
  return url;
}

/**
 * A fresh KEEPWARM_DB that already holds the current schema, as the first openStore
 * would leave it. On PostgreSQL an earlier test file's database emptied (reuse.ts), or
 * a copy of the run's template (CREATE DATABASE … TEMPLATE, a fraction of creating a
 * database and running every migration on it); on SQLite a new file in `dir`, which
 * openStore migrates in milliseconds.
 */
export async function migratedDatabase(dir: { file(name: string): string }, name = "keepwarm.db"): Promise<string> {
  if (TEST_ENGINE === "sqlite") return dir.file(name);
  const run = process.env.KEEPWARM_TEST_RUN;
  // Outside a vitest run (no globalSetup, no template): an empty database, migrated on open.
  if (run === undefined) return createPostgresDatabase(TEST_PG_ADMIN_URL, uniqueName());
  await releaseEarlierFiles(REUSE);
  let url = await takeReusedDatabase();
  if (url === undefined) {
    url = await createPostgresDatabase(TEST_PG_ADMIN_URL, uniqueName(), `${run}${TEMPLATE_SUFFIX}`, TEST_DB_SETTINGS);
    await learnTemplateShape(url);
  }
  await keepForThisFile(url);
  return url;
}
