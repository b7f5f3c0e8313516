import { DAY_MS, openStore, type Store, writeTransaction } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { type CliResult, tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { expect } from "vitest";

/** ISO date `days` before today (UTC), as a CSV or the touch command takes it. */
export const isoDaysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

/**
 * A temp folder with a database and a CLI bound to it. The database (migratedDatabase: a
 * file on SQLite, a new database on PostgreSQL) is made on first use.
 */
export function cliSandbox() {
  const tmp = tempDir("keepwarm-cli-");
  let database: Promise<string> | undefined;
  /** The KEEPWARM_DB value of the sandbox. */
  const db = (): Promise<string> => {
    database ??= migratedDatabase(tmp);
    return database;
  };
  return {
    ...tmp,
    db,
    cli: async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { KEEPWARM_DB: await db(), KEEPWARM_TZ: "UTC", ...env }),
    /** Open the same database in this process (SQLite WAL: safe beside a CLI process). */
    async withStore<T>(fn: (store: Store) => T | Promise<T>): Promise<T> {
      const store = await openStore(await db());
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
  await writeTransaction(store.db, async (trx) => {
    for (let start = 0; start < count; start += 1000) {
      const rows = Array.from({ length: Math.min(1000, count - start) }, (_, n) => ({
        external_id: `${prefix}-${start + n}`,
        name: `Quiet ${prefix} ${start + n}`,
        segment: "smb",
        owner_slack_id: "U0OWNER1",
        since_at: since,
        loyalty_member: 0,
        attributes: "{}",
        created_at: since,
        updated_at: since,
      }));
      await trx.insertInto("customers").values(rows).execute();
    }
  });
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
