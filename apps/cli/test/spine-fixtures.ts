import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { type CliResult, runCli, tempDir } from "@keepwarm/testkit";
import { expect } from "vitest";

/** ISO date `days` before today (UTC), as a CSV or the touch command takes it. */
export const isoDaysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

/** A temp folder with a database path and a CLI bound to it. */
export function cliSandbox() {
  const tmp = tempDir("keepwarm-cli-");
  const db = tmp.file("keepwarm.db");
  return {
    ...tmp,
    db,
    cli: (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { KEEPWARM_DB: db, KEEPWARM_TZ: "UTC", ...env }),
    /** Open the same database file in this process (WAL: safe beside a CLI process). */
    async withStore<T>(fn: (store: Store) => T | Promise<T>): Promise<T> {
      const store = await openStore(db);
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    },
  };
}

/** Inserts `count` smb customers, never touched, customers for 60 days: each one matches "no-contact". */
export function seedQuietCustomers(store: Store, count: number, prefix = "Q"): void {
  const since = Date.now() - 60 * DAY_MS;
  const insert = store.sqlite.prepare(
    "INSERT INTO customers (external_id, name, segment, owner_slack_id, since_at, created_at, updated_at) VALUES (?, ?, 'smb', 'U0OWNER1', ?, ?, ?)",
  );
  store.sqlite.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`${prefix}-${i}`, `Quiet ${prefix} ${i}`, since, since, since);
  })();
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
export const nudgeCounts = (store: Store): CountRow =>
  store.sqlite.prepare("SELECT count(*) AS total, count(DISTINCT rule_id || ' ' || customer_id) AS pairs FROM nudges").get() as CountRow;
