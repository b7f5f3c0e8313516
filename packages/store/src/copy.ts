import { type Kysely, sql } from "kysely";
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
        for (const { table, rows } of counts) {
          try {
            await copyTable(source, target, table, (copied) => onProgress?.({ table, copied, total: rows }));
          } catch (error) {
            if (error instanceof StoreError) throw error;
            throw new StoreError(`cannot copy ${table} into ${to.display}: ${firstLine(error)}`);
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

/** Rows inserted with their ids leave an identity sequence behind: move each one past the largest id. */
async function continueIdentities(trx: Db): Promise<void> {
  for (const table of COPIED_TABLES) {
    if (KEYS[table] !== undefined) continue;
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), max(id)) FROM ${sql.table(table)}`.execute(trx);
  }
}
