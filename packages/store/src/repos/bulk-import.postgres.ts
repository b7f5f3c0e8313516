import { sql } from "kysely";
import { type Db, writeTransaction } from "../engine/transaction";
import { type BulkTouchWriter, type ImportedTouch, repeatsInstant, type TouchWriterOptions, touchContentKey } from "./bulk-import";
import { emitTouchEvents } from "./webhook-events";

/**
 * The touches import on PostgreSQL: one set-based INSERT per few thousand rows, the
 * columns sent as arrays and unnested (one round trip, no parameter limit).
 *
 * - Duplicates are left out by a LATERAL index probe of touchpoints_customer_time per
 *   row. (NOT EXISTS let the planner pick a hash anti-join over a sequential scan of
 *   the whole table whenever its statistics lagged behind a growing import: the cost
 *   of each batch grew with the table.)
 * - NOT EXISTS-style checks race under READ COMMITTED: two imports of the same file at
 *   once would each see the other's rows as absent. A batch therefore first takes
 *   transaction-level advisory locks on the blocks of 1,024 customer ids it covers, in
 *   ascending order (no deadlock): imports touching the same customers write one at a
 *   time, as on SQLite; /touch and the sweep never wait for them.
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

/** Thrown to roll a dry run's batch back. */
class DryRunRollback extends Error {
  constructor(readonly ranges: Array<{ lo: number; hi: number; n: number; ids: number[] | null }>) {
    super("dry run");
  }
}

export async function openPostgresTouchWriter(db: Db, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const { loggedAt, ledger, dryRun = false } = options;
  return {
    parallel: 2,
    async write(rows) {
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const row of rows) {
        if (row.customerId < first) first = row.customerId;
        if (row.customerId > last) last = row.customerId;
      }
      const transaction = writeTransaction(db, async (trx) => {
        // No JIT: compiling these per-row expressions costs more than it saves.
        await sql`SET LOCAL synchronous_commit = off`.execute(trx);
        await sql`SET LOCAL jit = off`.execute(trx);
        await sql`SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b::int)
          FROM generate_series(${first}::bigint >> ${CUSTOMER_BLOCK_BITS}, ${last}::bigint >> ${CUSTOMER_BLOCK_BITS}) AS b`.execute(trx);
        const ranges: Array<{ lo: number; hi: number; n: number; ids: number[] | null }> = [];
        for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
          const chosen = firstOfEachContent(rows, from, Math.min(rows.length, from + ROWS_PER_STATEMENT));
          const result = await sql<{ lo: number | null; hi: number | null; n: number; ids: number[] | null }>`
            WITH inserted AS (
              INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
              SELECT v.customer_id, v.kind, v.occurred_at, ${loggedAt}, v.logged_by, v.note, v.external_id, 'import'
              FROM unnest(${chosen.customerId}::bigint[], ${chosen.kind}::text[], ${chosen.occurredAt}::bigint[], ${chosen.loggedBy}::text[], ${chosen.note}::text[], ${chosen.externalId}::text[])
                WITH ORDINALITY AS v(customer_id, kind, occurred_at, logged_by, note, external_id, ord)
              LEFT JOIN LATERAL (
                SELECT 1 AS found FROM touchpoints t
                WHERE v.external_id IS NULL AND t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import'
                  AND t.external_id IS NULL AND t.kind = v.kind AND t.note IS NOT DISTINCT FROM v.note AND t.logged_by IS NOT DISTINCT FROM v.logged_by
                LIMIT 1) AS stored ON true
              WHERE stored.found IS NULL
              ORDER BY v.ord
              -- A row with an external id: its unique index decides (a stored one, or an earlier one of this statement).
              ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
              RETURNING id)
            -- The ids as a range when they are one (no other session inserted meanwhile), else each of them.
            SELECT min(id) AS lo, max(id) AS hi, count(*)::int AS n,
              CASE WHEN max(id) - min(id) + 1 = count(*) THEN NULL ELSE array_agg(id) END AS ids
            FROM inserted`.execute(trx);
          const summary = result.rows[0];
          if (summary !== undefined && summary.n > 0) ranges.push({ lo: Number(summary.lo), hi: Number(summary.hi), n: summary.n, ids: summary.ids });
        }
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
      return { inserted, unchanged: rows.length - inserted };
    },
    async close() {
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
}

/** Rows `[from, to)` as columns, without the repeats of an earlier row's exact content (one statement cannot see its own inserts). */
function firstOfEachContent(rows: readonly ImportedTouch[], from: number, to: number): TouchColumns {
  const columns: TouchColumns = { customerId: [], occurredAt: [], kind: [], note: [], loggedBy: [], externalId: [] };
  const seen = repeatsInstant(rows, from, to) ? new Set<string>() : undefined;
  for (let r = from; r < to; r++) {
    const row = rows[r] as ImportedTouch;
    if (seen !== undefined && row.externalId === null) {
      const key = touchContentKey(row);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    columns.customerId.push(row.customerId);
    columns.occurredAt.push(row.occurredAt);
    columns.kind.push(row.kind);
    columns.note.push(row.note);
    columns.loggedBy.push(row.loggedBy);
    columns.externalId.push(row.externalId);
  }
  return columns;
}
