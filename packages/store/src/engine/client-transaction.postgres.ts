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
 * trip; `work` gets the results of its statements, in order. `work` throws RollBack to end
 * the transaction without committing. A connection whose transaction failed otherwise
 * is closed, not pooled: a COPY cut short can leave it mid-protocol.
 */
export async function withClientTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, trx: Db, opened: pg.QueryResult[]) => Promise<T>,
  opening?: string,
): Promise<T> {
  const client = await pool.connect();
  const pinned = { query: client.query.bind(client), release() {} };
  const db = new Kysely<Database>({ dialect: new BegunDialect({ pool: { connect: async () => pinned, end: async () => {} } }) });
  try {
    const begun = await client.query(opening === undefined ? "BEGIN" : `BEGIN; ${opening}`);
    // Without `opening` there is only BEGIN's result, and nothing to hand over.
    const opened = Array.isArray(begun) ? (begun.slice(1) as pg.QueryResult[]) : [];
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

/** `COPY … FROM STDIN` of `data` (COPY's text or binary format, as `statement` says), on the client's transaction. */
export async function copyFrom(client: pg.PoolClient, statement: string, data: Buffer): Promise<void> {
  // Loaded here, like pg itself: a SQLite install never loads it.
  const { from } = await import("pg-copy-streams");
  await pipeline(Readable.from([data]), client.query(from(statement)));
}
