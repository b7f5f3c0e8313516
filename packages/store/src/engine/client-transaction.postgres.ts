import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Driver, Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import type { Database } from "../schema";
import type { Db } from "./transaction";

/**
 * One transaction on one pooled connection, given both as a kysely transaction (for
 * the store's functions) and as its pg client (for what kysely cannot send: COPY).
 * kysely reaches the client through a pool of that one client, so its queries and its
 * COMMIT run on it, and a nested transaction throws as usual. The BEGIN is sent here,
 * with `opening` (SQL without parameters: one statement or more) in the same round
 * trip; `work` gets the result of its last statement. `work` throws RollBack to end
 * the transaction without committing. A connection whose transaction failed otherwise
 * is closed, not pooled: a COPY cut short can leave it mid-protocol.
 */
export async function withClientTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, trx: Db, opened: pg.QueryResult) => Promise<T>,
  opening?: string,
): Promise<T> {
  const client = await pool.connect();
  const pinned = { query: client.query.bind(client), release() {} };
  const db = new Kysely<Database>({ dialect: new BegunDialect({ pool: { connect: async () => pinned, end: async () => {} } }) });
  try {
    const begun = await client.query(opening === undefined ? "BEGIN" : `BEGIN; ${opening}`);
    const opened = (Array.isArray(begun) ? begun[begun.length - 1] : begun) as pg.QueryResult;
    const result = await db.transaction().execute((trx) => work(client, trx, opened));
    client.release();
    return result;
  } catch (error) {
    if (error instanceof RollBack) {
      client.release();
      return error.value as T;
    }
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}

/** kysely's dialect on a connection whose transaction withClientTransaction has begun: kysely sends no BEGIN of its own. */
class BegunDialect extends PostgresDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async () => {};
    return driver;
  }
}

/** Thrown by withClientTransaction's work: roll back, and return `value` as the result. */
export class RollBack extends Error {
  constructor(readonly value: unknown) {
    super("rolled back");
  }
}

/** `COPY … FROM STDIN` of `text` (COPY's text format, its fields made with copyField), on the client's transaction. */
export async function copyFromText(client: pg.PoolClient, statement: string, text: Buffer): Promise<void> {
  // Loaded here, like pg itself: a SQLite install never loads it.
  const { from } = await import("pg-copy-streams");
  await pipeline(Readable.from([text]), client.query(from(statement)));
}

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A value as a field of COPY's text format: NULL as \N, backslash and the separators escaped. */
export function copyField(value: string | number | null): string {
  if (value === null) return "\\N";
  if (typeof value === "number") return String(value);
  return SPECIAL.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c] as string) : value;
}
