import { type Db, insertNpsResponses, insertPurchases, type NewNpsResponse, type NewPurchase, queueEvaluation } from "@keepwarm/store";

/** Checked rows of the kinds written by plain inserts (touches have their own writer, customers are upserted). */
export type CheckedInserts = { kind: "nps"; rows: readonly NewNpsResponse[] } | { kind: "purchases"; rows: readonly NewPurchase[] };

export interface InsertOutcome {
  /** Row ids inserted (for the import's ledger). */
  ids: number[];
  /** Per row, in order: true when this row was written, false when already present (stored, or earlier in `rows`). */
  fresh: boolean[];
}

/**
 * Write checked NPS responses or purchases in the caller's transaction: the one write
 * step of the CSV import (per batch) and the API's ingest (per request). The customers
 * of the rows written are queued for real-time evaluation in the same transaction; a
 * row already present changes no fact and queues nothing.
 */
export async function writeCheckedInserts(trx: Db, batch: CheckedInserts, now: number): Promise<InsertOutcome> {
  if (batch.kind === "nps") {
    const inserted = await insertNpsResponses(trx, batch.rows);
    await queueEvaluation(
      trx,
      inserted.map((r) => r.customer_id),
      now,
    );
    return {
      ids: inserted.map((r) => r.id),
      fresh: firstOfEach(
        batch.rows.map((r) => `${r.customer_id}:${r.responded_at}`),
        inserted.map((r) => `${r.customer_id}:${r.responded_at}`),
      ),
    };
  }
  const inserted = await insertPurchases(trx, batch.rows);
  await queueEvaluation(
    trx,
    inserted.map((r) => r.customer_id),
    now,
  );
  return {
    ids: inserted.map((r) => r.id),
    fresh: firstOfEach(
      batch.rows.map((r) => r.dedupe_key),
      inserted.map((r) => r.dedupe_key),
    ),
  };
}

/** Per row key: true for the first row of each key that was written, false for the rest. */
export function firstOfEach(keys: readonly string[], writtenKeys: readonly string[]): boolean[] {
  const written = new Set(writtenKeys);
  return keys.map((key) => written.delete(key));
}
