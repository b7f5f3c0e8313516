import { WebhookSender } from "@keepwarm/core";
import { COPIED_TABLES, createPostgresDatabase, dropPostgresDatabases, openStore, postgresAnswers, type Store } from "@keepwarm/store";
import { TEST_DB_PREFIX, TEST_PG_ADMIN_URL } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The source is always a SQLite install; the target always PostgreSQL, so this file needs
// a server in the SQLite half of the suite too.
const pgAnswers = await postgresAnswers(TEST_PG_ADMIN_URL);
const title = pgAnswers ? "keepwarm db copy" : `keepwarm db copy (skipped: no PostgreSQL server answers at ${TEST_PG_ADMIN_URL})`;

const tmp = tempDir("keepwarm-copy-");
const source = tmp.file("source.db");
const env = { KEEPWARM_DB: source, KEEPWARM_TZ: "UTC" };
const PERIOD = ["--since", new Date(Date.now() - 120 * 86_400_000).toISOString(), "--until", new Date().toISOString()];
let counter = 0;
const TARGETS = `${TEST_DB_PREFIX}copy_${process.pid}_`;
const freshTarget = () => createPostgresDatabase(TEST_PG_ADMIN_URL, `${TARGETS}${++counter}`);

async function withStore<T>(location: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function rowCounts(location: string): Promise<Record<string, number>> {
  return withStore(location, async (store) => {
    const counts: Record<string, number> = {};
    for (const table of COPIED_TABLES) {
      const row = await store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  });
}

/** Nudges as their ids and references: the same ids on both sides mean every foreign key survived. */
const nudgeKeys = (location: string) =>
  withStore(location, (store) =>
    store.db.selectFrom("nudges").select(["id", "customer_id", "sweep_run_id", "resolved_touch_id", "status"]).orderBy("id").execute(),
  );

/** One line on stderr, returned. */
const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] as string;
};

describe.skipIf(!pgAnswers)(title, () => {
  let sourceCounts: Record<string, number>;
  beforeAll(async () => {
    // A whole install: customers and their history, rule versions, a sweep, nudges, outbox items, the demo mark, an API token.
    const demo = await runCli(["demo", "--customers", "300"], env);
    expect(demo.code, demo.stderr).toBe(0);
    // An API token moves with the install (its hash; the secret was never stored).
    const token = await runCli(["tokens", "create", "--name", "warehouse", "--scopes", "ingest"], env);
    expect(token.code, token.stderr).toBe(0);
    // A snoozed nudge posted again keeps its first message (the demo posts nothing to Slack).
    await withStore(source, async (store) => {
      const nudge = await store.db.selectFrom("nudges").select("id").orderBy("id").limit(1).executeTakeFirstOrThrow();
      await store.db
        .insertInto("nudge_earlier_messages")
        .values({ nudge_id: nudge.id, slack_channel: "D0REP", slack_ts: "1.000100", replaced_at: 0 })
        .execute();
    });
    // The owner directory and a rep's preferences (filled from Slack in a real install).
    await withStore(source, async (store) => {
      await store.db.insertInto("owners").values({ slack_id: "U0REP0001", email: "rep@example.com", name: "Rep One", updated_at: 0 }).execute();
    });
    expect((await runCli(["prefs", "set", "--user", "U0REP0001", "--quiet", "22-7", "--cap", "3"], env)).code).toBe(0);
    // A webhook with an event and one (refused) attempt: its secret and log move too.
    expect((await runCli(["webhooks", "add", "http://127.0.0.1:9/hook", "--events", "touch.created"], env)).code).toBe(0);
    expect((await runCli(["webhooks", "test", "1"], env)).code).toBe(0);
    expect((await withStore(source, (store) => new WebhookSender({ store }).runOnce())).retrying).toBe(1);
    sourceCounts = await rowCounts(source);
    for (const table of COPIED_TABLES) expect(sourceCounts[table], table).toBeGreaterThan(0);
    expect(sourceCounts.touchpoints).toBeGreaterThan(1000); // more than one batch
  });
  afterAll(async () => {
    tmp.cleanup();
    // Either half of the suite may run this file: drop the targets here, not in the run's teardown.
    await dropPostgresDatabases(TEST_PG_ADMIN_URL, TARGETS);
  });

  it("copies every table into an empty database with the same ids, verifies the counts, and the copy works as an install", async () => {
    const target = await freshTarget();
    const result = await runCli(["db", "copy", "--to", target], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const table of COPIED_TABLES) expect(result.stdout).toMatch(new RegExp(`^${table} +${sourceCounts[table]} rows?$`, "m"));
    expect(result.stdout).toContain("copied and verified");
    expect(await rowCounts(target)).toEqual(sourceCounts);
    expect(await nudgeKeys(target)).toEqual(await nudgeKeys(source));
    // The same KPIs from both engines.
    const before = await runCli(["stats", ...PERIOD, "--json"], env);
    const after = await runCli(["stats", ...PERIOD, "--json"], { ...env, KEEPWARM_DB: target });
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    // New rows continue after the copied ids: the identity sequences were moved past them.
    for (const table of ["customers", "touchpoints", "nudges", "outbox", "rule_sets", "sweep_runs"] as const) {
      expect(await nextId(target, table), table).toBe((await maxId(source, table)) + 1);
    }
  });

  it("refuses a target that is not empty with one line, and changes nothing there", async () => {
    const target = await freshTarget();
    expect((await runCli(["db", "copy", "--to", target], env)).code).toBe(0);
    const copied = await rowCounts(target);
    const again = await runCli(["db", "copy", "--to", target], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(oneLine(again.stderr)).toMatch(
      /^keepwarm: error: the target database postgres:\/\/\S+ is not empty \(customers, .* have rows\): db copy only fills an empty database$/,
    );
    expect(await rowCounts(target)).toEqual(copied);
  });

  it("a URL it cannot use is one line naming --to, the password masked", async () => {
    const url = new URL(TEST_PG_ADMIN_URL);
    url.password = "s3cret-pw";
    url.port = "1";
    const result = await runCli(["db", "copy", "--to", url.toString()], env);
    expect(result.code).toBe(1);
    const line = oneLine(result.stderr);
    expect(line).toMatch(/^keepwarm: error: cannot connect to PostgreSQL at postgres:\/\/\S+:\*\*\*@127\.0\.0\.1:1\/\S+ \(--to\): connection refused/);
    expect(line).not.toContain("s3cret-pw");
  });

  it("needs a postgres:// URL in --to", async () => {
    const result = await runCli(["db", "copy", "--to", tmp.file("other.db")], env);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe("keepwarm: error: --to must be a postgres:// URL (the database to move this install into)");
  });
});

type IdTable = "customers" | "touchpoints" | "nudges" | "outbox" | "rule_sets" | "sweep_runs";

async function maxId(location: string, table: IdTable): Promise<number> {
  return withStore(location, async (store) => {
    const row = await store.db
      .selectFrom(table)
      .select((eb) => eb.fn.max("id").as("m"))
      .executeTakeFirstOrThrow();
    return Number(row.m);
  });
}

/** The id PostgreSQL gives the next row of `table` (the sequence moves on; the test database is thrown away). */
async function nextId(location: string, table: IdTable): Promise<number> {
  return withStore(location, async (store) => {
    const row = await store.db
      .selectNoFrom((eb) => eb.fn<number>("nextval", [eb.fn("pg_get_serial_sequence", [eb.val(table), eb.val("id")])]).as("id"))
      .executeTakeFirstOrThrow();
    return Number(row.id);
  });
}
