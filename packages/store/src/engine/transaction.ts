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
