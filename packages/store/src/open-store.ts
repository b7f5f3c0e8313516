import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { migrationProvider } from "./migrations/index";
import type { Database } from "./schema";

export class StoreError extends Error {
  override name = "StoreError";
}

export interface Store {
  db: Kysely<Database>;
  /**
   * The raw connection. Hot paths (bulk fact scans, imports) use prepared statements
   * on it directly: kysely's per-row overhead dominates at a million rows.
   */
  sqlite: BetterSqlite3.Database;
  path: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Skip migrations (read-only tools on a database known to be current). */
  migrate?: boolean;
  readonly?: boolean;
}

export async function openStore(path: string, options: OpenStoreOptions = {}): Promise<Store> {
  const file = path === ":memory:" ? path : resolve(path);
  let sqlite: BetterSqlite3.Database;
  try {
    if (file !== ":memory:" && !options.readonly) mkdirSync(dirname(file), { recursive: true });
    sqlite = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 10000");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("synchronous = NORMAL");
  } catch (error) {
    throw new StoreError(`cannot open database "${path}" (KEEPWARM_DB): ${(error as Error).message}`);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  if (options.migrate !== false && !options.readonly) {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    if (error) {
      await db.destroy();
      throw new StoreError(`cannot migrate database "${path}": ${(error as Error).message}`);
    }
  }
  return {
    db,
    sqlite,
    path: file,
    close: () => db.destroy(),
  };
}
