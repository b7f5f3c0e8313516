import { tempDir } from "@keepwarm/testkit";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../src/index";
import { TEST_ENGINE, TEST_PG_ADMIN_URL } from "../src/testing/database";

/** The error a real driver throws for `cause`, caught. */
async function caught(cause: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await cause();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("isDatabaseUnavailable tells an unavailable database from a failing request", () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(() => tmp?.cleanup());

  it("SQLite locked by another writer past its busy timeout is unavailable; a broken statement is not", async () => {
    tmp = tempDir("keepwarm-unavailable-");
    const file = tmp.file("locked.db");
    const holder = new Database(file);
    const other = new Database(file, { timeout: 0 });
    try {
      holder.exec("CREATE TABLE t (x INTEGER)");
      holder.exec("BEGIN IMMEDIATE");
      expect(isDatabaseUnavailable(await caught(() => other.exec("INSERT INTO t VALUES (1)")))).toBe(true);
      expect(isDatabaseUnavailable(await caught(() => other.exec("INSERT INTO missing VALUES (1)")))).toBe(false);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
      other.close();
    }
  });

  it("nothing that is not a database error counts", () => {
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable("timeout exceeded when trying to connect")).toBe(false);
  });

  it.skipIf(TEST_ENGINE !== "postgres")(
    "a PostgreSQL pool with no connection free in time, and a refused connection, are unavailable (needs PostgreSQL)",
    async () => {
      // Long enough for the first connection on a busy machine; the second waits it out.
      const pool = new pg.Pool({ connectionString: TEST_PG_ADMIN_URL, max: 1, connectionTimeoutMillis: 1500 });
      const held = await pool.connect();
      try {
        expect(isDatabaseUnavailable(await caught(() => pool.connect()))).toBe(true);
        expect(isDatabaseUnavailable(await caught(() => held.query("SELECT * FROM no_such_table")))).toBe(false);
      } finally {
        held.release();
        await pool.end();
      }
      const refused = new pg.Client({ host: "127.0.0.1", port: 1, user: "postgres", database: "postgres" });
      expect(isDatabaseUnavailable(await caught(() => refused.connect()))).toBe(true);
    },
  );
});
