import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { driverOf, engineOf, migrationProvider, openStore, StoreError } from "../src/index";
import { freshDatabase, TEST_ENGINE, TEST_PG_ADMIN_URL } from "../src/testing/database";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("keepwarm-store-");
});
afterEach(() => tmp.cleanup());

/** kysely's own bookkeeping table: the migrations a database has run. */
type MigrationTable = { kysely_migration: { name: string; timestamp: string } };

const KEEPWARM_TABLES = [
  "customers",
  "touchpoints",
  "nps_responses",
  "purchases",
  "nudges",
  "outbox",
  "rule_sets",
  "sweep_runs",
  "leases",
  "meta",
  "api_tokens",
  "api_idempotency",
  "rep_preferences",
];

/** A URL like `url` with another user, password, port or database. */
function variant(url: string, change: { username?: string; password?: string; port?: string; database?: string }): string {
  const u = new URL(url);
  if (change.username !== undefined) u.username = change.username;
  if (change.password !== undefined) u.password = change.password;
  if (change.port !== undefined) u.port = change.port;
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  return u.toString();
}

describe("openStore", () => {
  it("migrates a fresh database: every keepwarm table exists", async () => {
    const store = await openStore(await freshDatabase(tmp));
    try {
      expect(store.engine).toBe(TEST_ENGINE);
      const tables = (await store.db.introspection.getTables()).map((table) => table.name);
      expect(tables).toEqual(expect.arrayContaining(KEEPWARM_TABLES));
    } finally {
      await store.close();
    }
  });

  it.runIf(TEST_ENGINE === "sqlite")("on SQLite: creates the folder and the file, and sets WAL, busy timeout and foreign keys", async () => {
    const store = await openStore(join(tmp.dir, "nested", "dir", "keepwarm.db"));
    try {
      const driver = driverOf(store);
      if (driver.engine !== "sqlite") throw new Error("expected SQLite");
      expect(driver.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(driver.sqlite.pragma("busy_timeout", { simple: true })).toBeGreaterThanOrEqual(5000);
      expect(driver.sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("opens an existing database again without re-running migrations or losing data", async () => {
    const location = await freshDatabase(tmp);
    const first = await openStore(location);
    await first.db
      .insertInto("customers")
      .values({ external_id: "C-1", name: "Acme", loyalty_member: 0, attributes: "{}", created_at: 0, updated_at: 0 })
      .execute();
    await first.close();
    const second = await openStore(location);
    try {
      expect((await second.db.selectFrom("customers").select("name").execute()).map((row) => row.name)).toEqual(["Acme"]);
      const applied = await second.db.withTables<MigrationTable>().selectFrom("kysely_migration").select("name").execute();
      expect(applied.map((row) => row.name).sort()).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
    } finally {
      await second.close();
    }
  });

  it.runIf(TEST_ENGINE === "sqlite")("refuses a path under a regular file with a StoreError naming KEEPWARM_DB", async () => {
    const file = join(tmp.dir, "plain");
    writeFileSync(file, "not a directory");
    const attempt = openStore(join(file, "keepwarm.db"));
    await expect(attempt).rejects.toBeInstanceOf(StoreError);
    await expect(openStore(join(file, "keepwarm.db"))).rejects.toThrow(/KEEPWARM_DB/);
  });

  it.runIf(TEST_ENGINE === "sqlite")("refuses a file that is not a SQLite database with a StoreError", async () => {
    const file = join(tmp.dir, "text.db");
    writeFileSync(file, "this is not sqlite, just text that is long enough to be read as a header".repeat(10));
    await expect(openStore(file)).rejects.toBeInstanceOf(StoreError);
  });

  it("enforces one live nudge per (rule, customer) and foreign keys in the schema", async () => {
    const store = await openStore(await freshDatabase(tmp));
    try {
      await store.db
        .insertInto("customers")
        .values({ id: 1, external_id: "C-1", name: "Acme", loyalty_member: 0, attributes: "{}", created_at: 0, updated_at: 0 })
        .execute();
      const insert = (status: "open" | "snoozed" | "resolved" | "dismissed") =>
        store.db
          .insertInto("nudges")
          .values({
            rule_id: "r",
            rule_set_version: 1,
            customer_id: 1,
            status,
            priority: 2,
            explanation: "",
            message: "",
            facts: "{}",
            held_out: 0,
            resolve_on_touch: 1,
            cooldown_days: 7,
            destination: "owner",
            created_at: 0,
            updated_at: 0,
          })
          .execute();
      await insert("resolved");
      await insert("open");
      await insert("dismissed");
      await expect(insert("open")).rejects.toThrow(/unique/i);
      await expect(insert("snoozed")).rejects.toThrow(/unique/i);
      await expect(
        store.db.insertInto("touchpoints").values({ customer_id: 99, kind: "call", occurred_at: 0, logged_at: 0, source: "cli" }).execute(),
      ).rejects.toThrow(/foreign key/i);
    } finally {
      await store.close();
    }
  });
});

/**
 * A postgres:// KEEPWARM_DB that cannot be used: one line naming KEEPWARM_DB, the
 * password masked, from openStore and from the CLI (exit 1). The test server trusts
 * local connections, so a wrong password would be let in: a role that does not exist
 * fails the same way (SQLSTATE 28000, as 28P01 for a bad password, both "authentication failed").
 */
describe("openStore on a PostgreSQL URL it cannot use", () => {
  const SECRET = "s3cret-pw";

  async function expectOneLine(location: string, pattern: RegExp): Promise<void> {
    const error = await openStore(location).then(
      async (store) => {
        await store.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toContain("KEEPWARM_DB");
    expect(message).not.toContain(SECRET);
    expect(message).toMatch(pattern);
    const cli = await runCli(["init"], { KEEPWARM_DB: location });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe("");
    expect(cli.stderr).toBe(`keepwarm: error: ${message}\n`);
  }

  it("an unreachable server", async () => {
    const url = variant(TEST_PG_ADMIN_URL, { password: SECRET, port: "1" });
    expect(engineOf(url)).toBe("postgres");
    await expectOneLine(url, /^cannot connect to PostgreSQL at postgres:\/\/[^@]*:\*\*\*@127\.0\.0\.1:1\/\S+ \(KEEPWARM_DB\): connection refused/);
  });

  it.runIf(TEST_ENGINE === "postgres")("a user the server does not let in (wrong password, unknown role)", async () => {
    const url = variant(TEST_PG_ADMIN_URL, { username: "keepwarm_no_such_role", password: SECRET });
    await expectOneLine(url, /^cannot connect to PostgreSQL at postgres:\/\/keepwarm_no_such_role:\*\*\*@.* \(KEEPWARM_DB\): authentication failed/);
  });

  it.runIf(TEST_ENGINE === "postgres")("a database that does not exist", async () => {
    const url = variant(TEST_PG_ADMIN_URL, { password: SECRET, database: "kwtest_does_not_exist" });
    await expectOneLine(url, /\/kwtest_does_not_exist \(KEEPWARM_DB\): the database does not exist/);
  });

  it.runIf(TEST_ENGINE === "postgres")("a database migrated by a newer keepwarm", async () => {
    const fresh = await freshDatabase(tmp);
    const store = await openStore(fresh);
    await store.db
      .withTables<MigrationTable>()
      .insertInto("kysely_migration")
      .values({ name: "2099-01-01T00-00_from-the-future", timestamp: "2099-01-01T00:00:00.000Z" })
      .execute();
    await store.close();
    await expectOneLine(
      variant(fresh, { password: SECRET }),
      /has a newer schema than this keepwarm \(migration 2099-01-01T00-00_from-the-future unknown\): upgrade keepwarm, or restore a backup$/,
    );
  });
});
