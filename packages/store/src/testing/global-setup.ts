import { dropPostgresDatabases } from "../engine/scratch";
import { TEST_DB_PREFIX, TEST_ENGINE, TEST_PG_ADMIN_URL } from "./database";

/** vitest globalSetup: on PostgreSQL, start from and leave no test databases behind. */
export async function setup(): Promise<void> {
  if (TEST_ENGINE === "postgres") await dropPostgresDatabases(TEST_PG_ADMIN_URL, TEST_DB_PREFIX);
}

export async function teardown(): Promise<void> {
  if (TEST_ENGINE === "postgres") await dropPostgresDatabases(TEST_PG_ADMIN_URL, TEST_DB_PREFIX);
}
