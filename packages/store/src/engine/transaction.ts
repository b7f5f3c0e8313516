import { type Kysely, sql } from "kysely";
import type { Database } from "../schema";
import { isPostgres } from "./dialect";

/** A query target: the database or a transaction (kysely's Transaction is a Kysely). */
export type Db = Kysely<Database>;

/**
 * Run `work` in one write transaction. Every query inside must use the `trx` it is
 * given: on SQLite a query on the outer `db` waits for the connection this holds and
 * never returns. SQLite takes the write lock up front (BEGIN IMMEDIATE), so two
 * processes that read and then write cannot deadlock into SQLITE_BUSY; PostgreSQL
 * runs READ COMMITTED, with row locks where a function needs them.
 */
export async function writeTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await work(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw error;
    }
  });
}

/**
 * A failure of the database's availability, not of the request: the pool had no
 * connection free in time, the server refused or dropped the connection, or SQLite
 * stayed locked past its busy timeout. A server answers these with "try again" (503),
 * never as its own bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : "";
  return (
    ["ECONNREFUSED", "ECONNRESET", "SQLITE_BUSY", "57P01", "57P03", "53300"].includes(code) ||
    message.startsWith("timeout exceeded when trying to connect") ||
    message === "Connection terminated unexpectedly"
  );
}
