import { type Kysely, sql } from "kysely";
import { pgArray } from "./engine/pg-array";
import { type Db, writeTransaction } from "./engine/transaction";
import { type Store, StoreError } from "./open-store";

/**
 * The tables an install's data lives in, parents before children (foreign keys).
 * Left out, as state of the running processes rather than data: `leases` (who works
 * on the database), `api_idempotency` (the API's answers of the last day to requests
 * that may be retried), `evaluation_queue` (customers waiting for a real-time pass; the
 * first sweep on the copy covers them), `slack_channels` (a cache of channel ids,
 * resolved again on demand) and `slack_pace` (the workspace pace's last slots).
 */
export const COPIED_TABLES = [
  "customers",
  "touchpoints",
  "nps_responses",
  "purchases",
  "rule_sets",
  "sweep_runs",
  "nudges",
  "nudge_earlier_messages",
  "webhooks",
  "webhook_events",
  "outbox",
  "webhook_attempts",
  "meta",
  "api_tokens",
  "owners",
  "rep_preferences",
] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

export interface CopyProgress {
  table: CopiedTable;
  copied: number;
  total: number;
}

export interface CopiedCount {
  table: CopiedTable;
  rows: number;
}

/** Rows read from the source per query (keyset pages by id). */
const READ_BATCH = 5000;
/** Bound parameters per INSERT: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

type Row = Record<string, unknown>;
/** The tables by name, as this module walks them: every row a plain record. */
type Loose = Kysely<Record<string, Row>>;
const loose = (db: Db) => db as unknown as Loose;

const firstLine = (error: unknown) => ((error as Error).message ?? String(error)).split("\n")[0];

/**
 * Copy every row of `from` into `to`, which must be empty (migrated, no row in any
 * keepwarm table): ids are kept, so every reference stays valid. The source is read
 * in one snapshot and the target written in one transaction, in batches and in
 * foreign-key order: a failure leaves the target empty. On PostgreSQL the identity
 * sequences then continue after the copied ids (and the tables are vacuumed and analyzed). Finally each table's row count in
 * the target is checked against the source; a difference is an error.
 */
export async function copyStore(from: Store, to: Store, onProgress?: (progress: CopyProgress) => void): Promise<CopiedCount[]> {
  if (from.engine === to.engine && from.location === to.location) throw new StoreError(`cannot copy ${from.display} onto itself`);
  const expected = await from.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (snapshot) => {
      const source = loose(snapshot);
      const counts: CopiedCount[] = [];
      for (const table of COPIED_TABLES) counts.push({ table, rows: await countRows(source, table) });
      await writeTransaction(to.db, async (trx) => {
        const target = loose(trx);
        await refuseNonEmpty(target, to.display);
        const deferred = to.engine === "postgres" ? await deferIndexesAndForeignKeys(trx) : undefined;
        const types = to.engine === "postgres" ? await columnTypes(trx) : undefined;
        for (const { table, rows } of counts) {
          try {
            const progress = (copied: number) => onProgress?.({ table, copied, total: rows });
            if (types === undefined) await copyTable(source, target, table, progress);
            else await copyTableUnnest(source, trx, table, types, progress);
          } catch (error) {
            if (error instanceof StoreError) throw error;
            throw new StoreError(`cannot copy ${table} into ${to.display}: ${firstLine(error)}`);
          }
        }
        if (deferred !== undefined) {
          try {
            await deferred.restore();
          } catch (error) {
            throw new StoreError(`cannot copy into ${to.display}: ${firstLine(error)}`);
          }
        }
        if (to.engine === "postgres") await continueIdentities(trx);
      });
      return counts;
    });
  const target = loose(to.db);
  for (const { table, rows } of expected) {
    const copied = await countRows(target, table);
    if (copied !== rows) throw new StoreError(`copy into ${to.display} is incomplete: ${table} has ${copied} rows, the source ${rows}`);
  }
  // Statistics and the visibility map now, not when autovacuum gets round to it: the
  // first sweep on the copy plans with them and scans the history indexes only.
  if (to.engine === "postgres") await sql`VACUUM (ANALYZE)`.execute(to.db);
  return expected;
}

async function countRows(db: Loose, table: string): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A copy only ever fills an empty database: merging two installs would clash on ids. */
async function refuseNonEmpty(db: Loose, display: string): Promise<void> {
  const filled: string[] = [];
  for (const table of [...COPIED_TABLES, "leases"]) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.lit(1).as("one"))
      .limit(1)
      .executeTakeFirst();
    if (row !== undefined) filled.push(table);
  }
  if (filled.length > 0) {
    throw new StoreError(
      `the target database ${display} is not empty (${filled.join(", ")} ${filled.length === 1 ? "has" : "have"} rows): db copy only fills an empty database`,
    );
  }
}

/** The key a table is paged by, where it is not `id` (and so has no identity sequence either). */
const KEYS: Partial<Record<CopiedTable, string>> = { meta: "key", owners: "slack_id", rep_preferences: "slack_id" };

async function copyTable(source: Loose, target: Loose, table: CopiedTable, progress: (copied: number) => void): Promise<void> {
  const key = KEYS[table] ?? "id";
  let copied = 0;
  let after: unknown;
  for (;;) {
    let page = source.selectFrom(table).selectAll().orderBy(key).limit(READ_BATCH);
    if (after !== undefined) page = page.where(key, ">", after);
    const rows = await page.execute();
    if (rows.length === 0) break;
    const perInsert = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(rows[0] as Row).length));
    for (let start = 0; start < rows.length; start += perInsert) {
      await target
        .insertInto(table)
        .values(rows.slice(start, start + perInsert))
        .execute();
    }
    copied += rows.length;
    progress(copied);
    after = (rows[rows.length - 1] as Row)[key];
    if (rows.length < READ_BATCH) break;
  }
}

/** Rows per INSERT … SELECT FROM unnest on PostgreSQL: one statement carries every column as one array. */
const UNNEST_BATCH = 20_000;

/** Each copied table's columns on PostgreSQL, with their types' names (the element type of the array each is sent as). */
async function columnTypes(trx: Db): Promise<Map<string, Array<{ name: string; type: string }>>> {
  const { rows } = await sql<{ table_name: string; column_name: string; udt_name: string }>`
    SELECT table_name, column_name, udt_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_generated = 'NEVER' AND table_name = ANY(${[...COPIED_TABLES]}::text[])
    ORDER BY table_name, ordinal_position`.execute(trx);
  const types = new Map<string, Array<{ name: string; type: string }>>();
  for (const row of rows) {
    const list = types.get(row.table_name) ?? [];
    list.push({ name: row.column_name, type: row.udt_name });
    types.set(row.table_name, list);
  }
  return types;
}

/**
 * PostgreSQL: each page of rows in one INSERT … SELECT FROM unnest, a typed array per
 * column. A VALUES list binds a parameter per cell (at most ~30,000 per statement) and
 * the server parses and plans each statement; arrays carry 20,000 rows a statement.
 */
async function copyTableUnnest(
  source: Loose,
  trx: Db,
  table: CopiedTable,
  types: Map<string, Array<{ name: string; type: string }>>,
  progress: (copied: number) => void,
): Promise<void> {
  const key = KEYS[table] ?? "id";
  const columns = types.get(table) ?? [];
  const names = sql.join(columns.map((column) => sql.ref(column.name)));
  let copied = 0;
  let after: unknown;
  for (;;) {
    let page = source.selectFrom(table).selectAll().orderBy(key).limit(UNNEST_BATCH);
    if (after !== undefined) page = page.where(key, ">", after);
    const rows = await page.execute();
    if (rows.length === 0) break;
    const arrays = columns.map((column) => sql`${pgArray(rows.map((row) => row[column.name]))}::${sql.raw(`${column.type}[]`)}`);
    await sql`INSERT INTO ${sql.table(table)} (${names}) SELECT * FROM unnest(${sql.join(arrays)})`.execute(trx);
    copied += rows.length;
    progress(copied);
    after = (rows[rows.length - 1] as Row)[key];
    if (rows.length < UNNEST_BATCH) break;
  }
}

/**
 * PostgreSQL: the secondary indexes and foreign keys of the copied tables are dropped
 * for the load and made again after it, in the same transaction: one sort per index and
 * one join per foreign key instead of an index insertion and a trigger per row (what
 * makes a million customers' 17M rows a matter of minutes). The source obeys the same
 * constraints, so remaking them fails only on a source that does not (and then the
 * whole copy rolls back). Primary keys and unique constraints stay.
 */
async function deferIndexesAndForeignKeys(trx: Db): Promise<{ restore(): Promise<void> }> {
  const tables = [...COPIED_TABLES];
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = ANY(${tables}::text[])
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`.execute(trx);
  const { rows: foreignKeys } = await sql<{ table: string; name: string; definition: string }>`
    SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND c.conrelid::regclass::text = ANY(${tables}::text[])`.execute(trx);
  for (const fk of foreignKeys) await sql`ALTER TABLE ${sql.table(fk.table)} DROP CONSTRAINT ${sql.ref(fk.name)}`.execute(trx);
  for (const index of indexes) await sql`DROP INDEX ${sql.ref(index.name)}`.execute(trx);
  return {
    async restore() {
      for (const index of indexes) await sql.raw(index.definition).execute(trx);
      for (const fk of foreignKeys) await sql`ALTER TABLE ${sql.table(fk.table)} ADD CONSTRAINT ${sql.ref(fk.name)} ${sql.raw(fk.definition)}`.execute(trx);
    },
  };
}

/** Rows inserted with their ids leave an identity sequence behind: move each one past the largest id. */
async function continueIdentities(trx: Db): Promise<void> {
  for (const table of COPIED_TABLES) {
    if (KEYS[table] !== undefined) continue;
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), max(id)) FROM ${sql.table(table)}`.execute(trx);
  }
}
