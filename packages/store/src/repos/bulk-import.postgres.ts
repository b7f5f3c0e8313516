import { sql } from "kysely";
import { type Db, writeTransaction } from "../engine/transaction";
import { type BulkTouchWriter, type ImportLedger, repeatsInstant, type TouchRows, touchContentKey } from "./bulk-import";

/**
 * The touches import on PostgreSQL: one set-based INSERT per few thousand rows, the
 * columns sent as arrays and unnested (one round trip and no parameter limit), the
 * duplicates left out by NOT EXISTS against touchpoints_customer_time.
 *
 * NOT EXISTS alone would race under READ COMMITTED: two imports of the same file at
 * once would each see the other's rows as absent. Each batch transaction therefore
 * takes a transaction-level advisory lock first, so touch imports write one batch at
 * a time, as on SQLite; /touch and the sweep never wait for it.
 */
const ROWS_PER_STATEMENT = 5000;

export async function openPostgresTouchWriter(db: Db, options: { loggedAt: number; ledger: ImportLedger }): Promise<BulkTouchWriter> {
  const { loggedAt, ledger } = options;
  return {
    async write(rows) {
      const total = rows.customerId.length;
      const ids = await writeTransaction(db, async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-import'))`.execute(trx);
        const inserted: number[] = [];
        for (let from = 0; from < total; from += ROWS_PER_STATEMENT) {
          const to = Math.min(total, from + ROWS_PER_STATEMENT);
          const chosen = firstOfEachContent(rows, from, to);
          const result = await sql<{ id: number }>`
            INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source)
            SELECT v.customer_id, v.kind, v.occurred_at, ${loggedAt}, v.logged_by, v.note, 'import'
            FROM unnest(${chosen.customerId}::bigint[], ${chosen.kind}::text[], ${chosen.occurredAt}::bigint[], ${chosen.loggedBy}::text[], ${chosen.note}::text[])
              WITH ORDINALITY AS v(customer_id, kind, occurred_at, logged_by, note, ord)
            WHERE NOT EXISTS (
              SELECT 1 FROM touchpoints t
              WHERE t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import'
                AND t.kind = v.kind AND t.note IS NOT DISTINCT FROM v.note AND t.logged_by IS NOT DISTINCT FROM v.logged_by)
            ORDER BY v.ord
            RETURNING id`.execute(trx);
          for (const row of result.rows) inserted.push(Number(row.id));
        }
        return inserted;
      });
      ledger.addIds("touchpoints", ids);
      return { inserted: ids.length, unchanged: total - ids.length };
    },
    async close() {},
  };
}

/** Rows `[from, to)` without the repeats of an earlier row's exact content (one statement cannot see its own inserts). */
function firstOfEachContent(rows: TouchRows, from: number, to: number): TouchRows {
  if (!repeatsInstant(rows, from, to)) {
    return {
      customerId: rows.customerId.slice(from, to),
      occurredAt: rows.occurredAt.slice(from, to),
      kind: rows.kind.slice(from, to),
      note: rows.note.slice(from, to),
      loggedBy: rows.loggedBy.slice(from, to),
    };
  }
  const chosen: TouchRows = { customerId: [], occurredAt: [], kind: [], note: [], loggedBy: [] };
  const seen = new Set<string>();
  for (let r = from; r < to; r++) {
    const key = touchContentKey(rows, r);
    if (seen.has(key)) continue;
    seen.add(key);
    chosen.customerId.push(rows.customerId[r] as number);
    chosen.occurredAt.push(rows.occurredAt[r] as number);
    chosen.kind.push(rows.kind[r] as string);
    chosen.note.push(rows.note[r] ?? null);
    chosen.loggedBy.push(rows.loggedBy[r] ?? null);
  }
  return chosen;
}
