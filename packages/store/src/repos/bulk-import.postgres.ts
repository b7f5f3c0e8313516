import { sql } from "kysely";
import { type Db, writeTransaction } from "../engine/transaction";
import type { BulkTouchWriter, ImportedTouch, TouchWriterOptions } from "./bulk-import";
import { emitTouchEvents } from "./webhook-events";

/**
 * The touches import on PostgreSQL: one set-based INSERT per few thousand rows, the
 * columns sent as arrays and unnested (one round trip, no parameter limit).
 *
 * - Duplicates are left out by a LATERAL index probe of touchpoints_customer_time per
 *   row, for the nth stored touch of its content when the row is the nth of that content
 *   in its file (OFFSET n-1 LIMIT 1). (NOT EXISTS let the planner pick a hash anti-join over a sequential scan of
 *   the whole table whenever its statistics lagged behind a growing import: the cost
 *   of each batch grew with the table.)
 * - NOT EXISTS-style checks race under READ COMMITTED: two imports of the same file at
 *   once would each see the other's rows as absent. A batch therefore first takes
 *   transaction-level advisory locks on the blocks of 1,024 customer ids it covers, in
 *   ascending order (no deadlock): imports touching the same customers write one at a
 *   time, as on SQLite; /touch and the sweep never wait for them. A write of a few
 *   customers (an API request) takes its blocks shared and then each customer's own
 *   lock: single events for different customers of one block go at once instead of in
 *   single file (which held the pool's connections waiting at 500 requests a second),
 *   and still wait for an import of their block. Block locks before customer locks,
 *   each in ascending order: no deadlock.
 * - Two batches run at once (each on its own connection, on disjoint customer ranges):
 *   the server's work (foreign-key checks, index probes and inserts) is what limits
 *   the import, and one backend uses one core.
 * - Batches commit without waiting for their WAL flush (synchronous_commit off, for
 *   that transaction only); close() then commits one transaction that does wait,
 *   which flushes the WAL up to it and so every batch before it. A crash mid-import
 *   can lose batches, as a killed import would leave them half written anyway.
 */
const ROWS_PER_STATEMENT = 5000;
const CUSTOMER_BLOCK_BITS = 10;
const CUSTOMER_BLOCK = 2 ** CUSTOMER_BLOCK_BITS;
/** Up to this many customers a write locks each of them (under its blocks, shared); more lock their blocks. */
const FEW_CUSTOMERS = 16;

/** Thrown to roll a dry run's batch back. */
class DryRunRollback extends Error {
  constructor(readonly ranges: Array<{ lo: number; hi: number; n: number; ids: number[] | null }>) {
    super("dry run");
  }
}

export async function openPostgresTouchWriter(db: Db, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const { loggedAt, ledger, dryRun = false, keepSettings = false } = options;
  return {
    parallel: 2,
    async write(rows, within) {
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const row of rows) {
        if (row.customerId < first) first = row.customerId;
        if (row.customerId > last) last = row.customerId;
      }
      const fresh: boolean[] = new Array(rows.length).fill(true);
      const customers = [...new Set(rows.map((row) => row.customerId))].sort((a, b) => a - b);
      const few = customers.length <= FEW_CUSTOMERS;
      const transaction = writeTransaction(db, async (trx) => {
        if (!keepSettings) await sql`SET LOCAL synchronous_commit = off`.execute(trx);
        // One round trip: no JIT (compiling these per-row expressions costs more than it
        // saves), the locks, and the highest touch id (read as the statement starts:
        // touches committed meanwhile only widen `after`'s range).
        const locks = few
          ? sql`SELECT count(*) FROM (
              SELECT pg_advisory_xact_lock_shared(hashtext('keepwarm:touch-import'), b) FROM unnest(${[...new Set(customers.map((c) => Math.floor(c / CUSTOMER_BLOCK)))]}::int[]) AS b
              UNION ALL
              SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-customer'), (c % 2147483648)::int) FROM unnest(${customers}::bigint[]) AS c) AS locked`
          : sql`SELECT count(pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b::int))
              FROM generate_series(${first}::bigint >> ${CUSTOMER_BLOCK_BITS}, ${last}::bigint >> ${CUSTOMER_BLOCK_BITS}) AS b`;
        const start = await sql<{ after: number }>`SELECT set_config('jit', 'off', true), (${locks}) AS locks,
          ${within === undefined ? sql`0` : sql`(SELECT coalesce(max(id), 0) FROM touchpoints)`} AS after`.execute(trx);
        const after = Number(start.rows[0]?.after ?? 0);
        const ranges: Array<{ lo: number; hi: number; n: number; ids: number[] | null }> = [];
        for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
          const columns = columnsOf(rows, from, Math.min(rows.length, from + ROWS_PER_STATEMENT), fresh);
          if (columns.customerId.length === 0) continue;
          // A row without an external id is new unless `occurrence` stored imported touches share its content (OFFSET n-1 LIMIT 1: the nth).
          const result = await sql<{ lo: number | null; hi: number | null; n: number; ids: number[] | null; skipped: number[] | null }>`
            WITH v AS (
              SELECT * FROM unnest(${columns.customerId}::bigint[], ${columns.kind}::text[], ${columns.occurredAt}::bigint[], ${columns.loggedBy}::text[], ${columns.note}::text[], ${columns.externalId}::text[], ${columns.occurrence}::int[], ${columns.index}::int[])
                AS v(customer_id, kind, occurred_at, logged_by, note, external_id, occurrence, pos)),
            chosen AS (
              SELECT v.* FROM v
              LEFT JOIN LATERAL (
                SELECT 1 AS found FROM touchpoints t
                WHERE v.external_id IS NULL AND t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import'
                  AND t.external_id IS NULL AND t.kind = v.kind AND t.note IS NOT DISTINCT FROM v.note AND t.logged_by IS NOT DISTINCT FROM v.logged_by
                OFFSET v.occurrence - 1 LIMIT 1) AS stored ON true
              LEFT JOIN LATERAL (SELECT 1 AS found FROM touchpoints t WHERE t.external_id = v.external_id LIMIT 1) AS known ON true
              WHERE stored.found IS NULL AND known.found IS NULL),
            inserted AS (
              INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
              SELECT customer_id, kind, occurred_at, ${loggedAt}, logged_by, note, external_id, 'import' FROM chosen ORDER BY pos
              -- An external id another session stored meanwhile: its unique index decides.
              ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
              RETURNING id)
            -- The ids as a range when they are one (no other session inserted meanwhile), else each of them.
            SELECT min(id) AS lo, max(id) AS hi, count(*)::int AS n,
              CASE WHEN max(id) - min(id) + 1 = count(*) THEN NULL ELSE array_agg(id) END AS ids,
              (SELECT array_agg(pos) FROM v WHERE NOT EXISTS (SELECT 1 FROM chosen c WHERE c.pos = v.pos)) AS skipped
            FROM inserted`.execute(trx);
          const summary = result.rows[0];
          for (const index of summary?.skipped ?? []) fresh[index] = false;
          if (summary !== undefined && summary.n > 0) ranges.push({ lo: Number(summary.lo), hi: Number(summary.hi), n: summary.n, ids: summary.ids });
        }
        await within?.(trx, after);
        if (dryRun) throw new DryRunRollback(ranges);
        // touch.created for exactly the rows this batch inserted, in its transaction.
        const ids: number[] = [];
        for (const range of ranges) {
          if (range.ids !== null) ids.push(...range.ids.map(Number));
          else for (let id = range.lo; id <= range.hi; id++) ids.push(id);
        }
        await emitTouchEvents(trx, ids, loggedAt);
        return ranges;
      });
      const written = await transaction.catch((error: unknown) => {
        if (error instanceof DryRunRollback) return error.ranges;
        throw error;
      });
      let inserted = 0;
      for (const range of written) {
        inserted += range.n;
        if (dryRun) continue;
        if (range.ids === null) ledger.addRange("touchpoints", range.lo, range.hi);
        else ledger.addIds("touchpoints", range.ids.map(Number));
      }
      return { inserted, unchanged: rows.length - inserted, fresh };
    },
    async close() {
      if (keepSettings) return;
      // A transaction with a transaction id commits synchronously: the WAL is flushed
      // up to its commit record, and with it every batch committed before.
      await sql`SELECT txid_current()`.execute(db);
    },
  };
}

interface TouchColumns {
  customerId: number[];
  occurredAt: number[];
  kind: string[];
  note: Array<string | null>;
  loggedBy: Array<string | null>;
  externalId: Array<string | null>;
  occurrence: number[];
  /** The row's index in the batch. */
  index: number[];
}

/**
 * Rows `[from, to)` as columns, without a repeat of an external id earlier in the batch
 * (marked not fresh here: one statement cannot see its own inserts).
 */
function columnsOf(rows: readonly ImportedTouch[], from: number, to: number, fresh: boolean[]): TouchColumns {
  const columns: TouchColumns = { customerId: [], occurredAt: [], kind: [], note: [], loggedBy: [], externalId: [], occurrence: [], index: [] };
  let externalIds: Set<string> | undefined;
  for (let r = from; r < to; r++) {
    const row = rows[r] as ImportedTouch;
    if (row.externalId !== null) {
      externalIds ??= new Set(rows.slice(0, from).flatMap((earlier) => (earlier.externalId === null ? [] : [earlier.externalId])));
      if (externalIds.has(row.externalId)) {
        fresh[r] = false;
        continue;
      }
      externalIds.add(row.externalId);
    }
    columns.customerId.push(row.customerId);
    columns.occurredAt.push(row.occurredAt);
    columns.kind.push(row.kind);
    columns.note.push(row.note);
    columns.loggedBy.push(row.loggedBy);
    columns.externalId.push(row.externalId);
    columns.occurrence.push(row.occurrence ?? 1);
    columns.index.push(r);
  }
  return columns;
}
