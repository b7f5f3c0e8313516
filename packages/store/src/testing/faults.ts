import { sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import type { Db } from "../engine/transaction";
import type { Database } from "../schema";

/**
 * Faults injected into a test database with triggers, the same on both engines: a
 * write that fails as a full disk would, or a lease taken over at a chosen moment.
 * Each returns the function that removes it.
 */

let counter = 0;
const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function addTrigger(db: Db, table: keyof Database, timing: "BEFORE" | "AFTER", when: string | undefined, body: { sqlite: string; postgres: string }) {
  const name = `kw_fault_${++counter}`;
  if (isPostgres(db)) {
    await sql
      .raw(
        `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN ${body.postgres}; RETURN ${timing === "BEFORE" ? "NEW" : "NULL"}; END $fn$`,
      )
      .execute(db);
    await sql
      .raw(`CREATE TRIGGER ${name} ${timing} INSERT ON ${table} FOR EACH ROW ${when === undefined ? "" : `WHEN (${when})`} EXECUTE FUNCTION ${name}()`)
      .execute(db);
    return async () => {
      await sql.raw(`DROP TRIGGER ${name} ON ${table}`).execute(db);
      await sql.raw(`DROP FUNCTION ${name}()`).execute(db);
    };
  }
  await sql.raw(`CREATE TRIGGER ${name} ${timing} INSERT ON ${table} ${when === undefined ? "" : `WHEN ${when}`} BEGIN ${body.sqlite}; END`).execute(db);
  return async () => {
    await sql.raw(`DROP TRIGGER ${name}`).execute(db);
  };
}

/** Inserts into `table` fail with `message` (only those of one customer, with `customerId`). */
export function failInserts(db: Db, table: keyof Database, message: string, options: { customerId?: number } = {}): Promise<() => Promise<void>> {
  const when = options.customerId === undefined ? undefined : `NEW.customer_id = ${Math.trunc(options.customerId)}`;
  return addTrigger(db, table, "BEFORE", when, { sqlite: `SELECT RAISE(ABORT, ${quote(message)})`, postgres: `RAISE EXCEPTION ${quote(message)}` });
}

/** The first insert into `table` hands the lease `name` to someone else, inside the inserting transaction. */
export function takeLeaseOnInsert(db: Db, table: keyof Database, name: string, thief = "thief"): Promise<() => Promise<void>> {
  const update = `UPDATE leases SET holder = ${quote(thief)}, host = ${quote(`${thief}-host`)}, pid = 1 WHERE name = ${quote(name)}`;
  return addTrigger(db, table, "AFTER", undefined, { sqlite: update, postgres: update });
}

/**
 * PostgreSQL only: every new session of this database is read-only (as on a standby or
 * with default_transaction_read_only), the way an operator's mistake leaves it.
 */
export async function makeDatabaseReadOnly(db: Db): Promise<void> {
  if (!isPostgres(db)) throw new Error("makeDatabaseReadOnly is for PostgreSQL (a SQLite file is made read-only by its permissions)");
  await sql.raw(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`).execute(db);
}
