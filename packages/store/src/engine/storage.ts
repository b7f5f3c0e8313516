import { accessSync, constants, existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { sql } from "kysely";
import { driverOf, type Store } from "../open-store";

/** Below this much free space SQLite's next checkpoint or a migration may fail half-way: report the disk as full. */
export const LOW_DISK_BYTES = 64 * 1024 * 1024;

export interface StorageStatus {
  /** undefined when writable; else why not, in words. */
  readOnly: string | undefined;
  /** Free bytes on the database's file system (SQLite only; PostgreSQL's disk is the server's). */
  freeBytes: number | undefined;
  /** freeBytes under LOW_DISK_BYTES. */
  diskFull: boolean;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Can this store take writes, and is there room for them? Asked without writing
 * anything: file permissions and free space for SQLite, the server's own answer for
 * PostgreSQL (a standby or `default_transaction_read_only`).
 */
export async function storageStatus(store: Store): Promise<StorageStatus> {
  const driver = driverOf(store);
  if (driver.engine === "postgres") {
    const row = (
      await sql<{ ro: string; standby: boolean }>`SELECT current_setting('transaction_read_only') AS ro, pg_is_in_recovery() AS standby`.execute(store.db)
    ).rows[0];
    const readOnly = row?.standby
      ? "the PostgreSQL server is a read-only standby"
      : row?.ro === "on"
        ? "PostgreSQL sessions are read-only (default_transaction_read_only)"
        : undefined;
    return { readOnly, freeBytes: undefined, diskFull: false };
  }
  const file = driver.sqlite.name;
  let readOnly: string | undefined;
  if (driver.sqlite.readonly && !existsSync(file)) readOnly = `${file} does not exist`;
  else if (!writable(file)) readOnly = `${file} is not writable by this user`;
  else if (!writable(dirname(file))) readOnly = `its directory ${dirname(file)} is not writable (SQLite keeps its -wal file there)`;
  let freeBytes: number | undefined;
  try {
    const fs = statfsSync(dirname(file));
    freeBytes = fs.bavail * fs.bsize;
  } catch {
    freeBytes = undefined;
  }
  return { readOnly, freeBytes, diskFull: freeBytes !== undefined && freeBytes < LOW_DISK_BYTES };
}
