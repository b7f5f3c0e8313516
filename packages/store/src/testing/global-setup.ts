import { dropPostgresDatabases, listPostgresDatabases } from "../engine/scratch";
import { TEST_DB_PREFIX, TEST_ENGINE, TEST_PG_ADMIN_URL } from "./database";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * vitest globalSetup. On PostgreSQL each run names its databases after the vitest
 * process (`kwtest_<pid>_…`, through KEEPWARM_TEST_RUN, which the workers inherit),
 * drops its own at the end, and at the start drops only those of runs that are gone:
 * several runs can share one server.
 */
export async function setup(): Promise<void> {
  if (TEST_ENGINE !== "postgres") return;
  process.env.KEEPWARM_TEST_RUN = `${TEST_DB_PREFIX}${process.pid}_`;
  for (const name of await listPostgresDatabases(TEST_PG_ADMIN_URL, TEST_DB_PREFIX)) {
    const pid = Number(/^kwtest_(\d+)_/.exec(name)?.[1]);
    if (!Number.isFinite(pid) || !alive(pid)) await dropPostgresDatabases(TEST_PG_ADMIN_URL, name);
  }
}

export async function teardown(): Promise<void> {
  if (TEST_ENGINE === "postgres") await dropPostgresDatabases(TEST_PG_ADMIN_URL, `${TEST_DB_PREFIX}${process.pid}_`);
}
