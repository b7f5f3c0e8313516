import { DAY_MS, insertCustomers, openStore, type Store, writeTransaction } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { type CliResult, runCli, tempDir } from "@keepwarm/testkit";
import { expect } from "vitest";

/** ISO date `days` before today (UTC), as a CSV or the touch command takes it. */
export const isoDaysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

/**
 * A temp folder with a database of the engine under test and a CLI bound to it. The
 * database is made on first use (a new PostgreSQL database takes a moment): `cli` and
 * `withStore` wait for it; `db` is its KEEPWARM_DB value once either has run (or after
 * `await database()`).
 */
export function cliSandbox() {
  const tmp = tempDir("keepwarm-cli-");
  let location: string | undefined;
  let made: Promise<string> | undefined;
  const database = (): Promise<string> => {
    made ??= freshDatabase(tmp).then((value) => {
      location = value;
      return value;
    });
    return made;
  };
  return {
    ...tmp,
    database,
    get db(): string {
      if (location === undefined) throw new Error("cliSandbox: the database is made on first use; await box.database() first");
      return location;
    },
    cli: async (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
      runCli(args, { KEEPWARM_DB: await database(), KEEPWARM_TZ: "UTC", ...env }),
    /** Open the same database in this process (SQLite's WAL makes that safe beside a CLI process). */
    async withStore<T>(fn: (store: Store) => T | Promise<T>): Promise<T> {
      const store = await openStore(await database());
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    },
  };
}

/** Inserts `count` smb customers, never touched, customers for 60 days: each one matches "no-contact". */
export async function seedQuietCustomers(store: Store, count: number, prefix = "Q"): Promise<void> {
  const since = Date.now() - 60 * DAY_MS;
  const rows = Array.from({ length: count }, (_, i) => ({
    external_id: `${prefix}-${i}`,
    name: `Quiet ${prefix} ${i}`,
    segment: "smb",
    owner_slack_id: "U0OWNER1",
    since_at: since,
    loyalty_member: 0,
    attributes: "{}",
    created_at: since,
    updated_at: since,
  }));
  await writeTransaction(store.db, (trx) => insertCustomers(trx, rows));
}

/** A user error: exit 1, a "keepwarm: error:" line, at most a usage line after it, never a stack. */
export function expectUserError(result: CliResult, pattern: RegExp): string {
  expect(result.stderr).not.toContain("    at ");
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trimEnd().split("\n");
  const errorLine = lines.find((line) => line.startsWith("keepwarm: error: ")) ?? "";
  expect(errorLine).toMatch(pattern);
  return errorLine;
}

export interface CountRow {
  total: number;
  pairs: number;
}

/** Total nudges and distinct (rule, customer) pairs among them. */
export async function nudgeCounts(store: Store): Promise<CountRow> {
  const rows = await store.db.selectFrom("nudges").select(["rule_id", "customer_id"]).execute();
  return { total: rows.length, pairs: new Set(rows.map((row) => `${row.rule_id} ${row.customer_id}`)).size };
}
