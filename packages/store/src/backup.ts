import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { driverOf, type Store, StoreError } from "./open-store";

export interface BackupResult {
  file: string;
  bytes: number;
}

/**
 * A consistent copy of a SQLite store while other processes keep using it: SQLite's
 * online backup API, page by page, then an integrity check of the copy. PostgreSQL
 * installs use pg_dump instead (this throws, saying so).
 */
export async function backupSqlite(store: Store, target: string, onProgress?: (done: number, total: number) => void): Promise<BackupResult> {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite")
    throw new StoreError(`KEEPWARM_DB is PostgreSQL (${store.display}): back it up with pg_dump, e.g. pg_dump -Fc "$KEEPWARM_DB" > keepwarm.dump`);
  const file = resolve(target);
  if (existsSync(file)) throw new StoreError(`${file} already exists: give a new file name (a backup never overwrites)`);
  await driver.sqlite.backup(file, {
    progress: ({ totalPages, remainingPages }) => {
      onProgress?.(totalPages - remainingPages, totalPages);
      return 1000;
    },
  });
  const copy = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const check = copy.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new StoreError(`the backup ${file} failed its integrity check (${String(check)}): the database itself may be damaged`);
  } finally {
    copy.close();
  }
  return { file, bytes: statSync(file).size };
}
