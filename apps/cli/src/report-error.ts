import { UsageError } from "./command";
import type { Io } from "./io";

/**
 * Conditions of the machine, not bugs: what happened and what to do, in one line.
 * Matched on the error codes Node, better-sqlite3 and pg give.
 */
export function operatorCondition(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  switch (code) {
    case "ENOSPC":
    case "SQLITE_FULL":
      return "the disk is full: free some space, then run the command again";
    case "EROFS":
    case "SQLITE_READONLY":
    case "SQLITE_READONLY_DBMOVED":
    case "SQLITE_READONLY_DIRECTORY":
    case "25006": // PostgreSQL: read_only_sql_transaction
      return "the database is read-only here: this command writes, so make KEEPWARM_DB and its directory writable by this user (reading commands such as stats, doctor and rules export still work)";
    case "SQLITE_CORRUPT":
    case "SQLITE_NOTADB":
      return "the database file is damaged (not a readable SQLite database): restore the last backup (keepwarm db backup makes one), see docs/operations.md";
    case "SQLITE_IOERR":
      return "the disk reported an I/O error reading or writing the database: check the disk (dmesg), then restore a backup if it persists";
    case "EADDRINUSE":
      return "the port is already in use (another keepwarm bot?): stop that process or set PORT to a free port";
    case "EACCES":
    case "EPERM":
      return `permission denied${(error as { path?: string }).path ? ` on ${(error as { path?: string }).path}` : ""}: run keepwarm as a user who may read and write KEEPWARM_DB`;
    default:
      return undefined;
  }
}

/** Users' mistakes and the machine's conditions get one line and exit 1; only real bugs exit 2 (a stack with KEEPWARM_DEBUG=1). */
export async function reportError(error: unknown, io: Io): Promise<number> {
  const line = (text: string) => io.stderr(`keepwarm: error: ${text}\n`);
  if (error instanceof UsageError) {
    line(error.message);
    return 1;
  }
  if (await isKnown(error)) {
    line((error as Error).message);
    return 1;
  }
  const condition = operatorCondition(error) ?? operatorCondition((error as { cause?: unknown })?.cause);
  if (condition !== undefined) {
    line(condition);
    if (io.env.KEEPWARM_DEBUG) io.stderr(`${(error as Error)?.stack}\n`);
    return 1;
  }
  io.stderr(`keepwarm: internal error: ${(error as Error)?.message ?? String(error)}\n`);
  if (io.env.KEEPWARM_DEBUG) io.stderr(`${(error as Error)?.stack}\n`);
  return 2;
}

/** Loaded only when something failed: the error classes live in packages `--help` need not load. */
async function isKnown(error: unknown): Promise<boolean> {
  try {
    return (await import("./context")).isUserFacing(error);
  } catch {
    return false;
  }
}
