import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { closePostgresDatabase, createPostgresDatabase, dropPostgresDatabases, listPostgresDatabases } from "../engine/scratch";
import { openStore } from "../open-store";
import { TEMPLATE_SUFFIX, TEST_DB_PREFIX, TEST_DB_SETTINGS, TEST_ENGINE, TEST_PG_ADMIN_URL } from "./database";

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
 * several runs can share one server. It migrates one template per run, which
 * migratedDatabase copies.
 */
export async function setup(): Promise<void> {
  if (TEST_ENGINE !== "postgres") return;
  const run = `${TEST_DB_PREFIX}${process.pid}_`;
  // Every project inherits this setup: the first one does the work.
  if (process.env.KEEPWARM_TEST_RUN === run) return;
  process.env.KEEPWARM_TEST_RUN = run;
  const gone = new Set<string>();
  for (const name of await listPostgresDatabases(TEST_PG_ADMIN_URL, TEST_DB_PREFIX)) {
    const pid = Number(/^kwtest_(\d+)_/.exec(name)?.[1]);
    if (!Number.isFinite(pid)) gone.add(name);
    else if (!alive(pid)) gone.add(`${TEST_DB_PREFIX}${pid}_`);
  }
  for (const prefix of gone) await dropPostgresDatabases(TEST_PG_ADMIN_URL, prefix);
  const template = `${run}${TEMPLATE_SUFFIX}`;
  const store = await openStore(await createPostgresDatabase(TEST_PG_ADMIN_URL, template, undefined, TEST_DB_SETTINGS));
  await store.close();
  await closePostgresDatabase(TEST_PG_ADMIN_URL, template);
}

/**
 * Drops the run's databases in a detached process, so the run reports without waiting:
 * each DROP DATABASE waits on a checkpoint, ~0.4 s apiece, and a run leaves ~80 of them
 * (8 s even four at a time). Whatever that process does not finish, the next run's setup
 * drops, its run being gone.
 */
export async function teardown(): Promise<void> {
  if (TEST_ENGINE !== "postgres") return;
  const dropper = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./drop-run.ts", import.meta.url)), TEST_PG_ADMIN_URL, `${TEST_DB_PREFIX}${process.pid}_`],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  dropper.unref();
}
