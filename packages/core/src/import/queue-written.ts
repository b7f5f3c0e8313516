import { type Db, queueEvaluation } from "@keepwarm/store";

/**
 * Queue the customers of rows just written (NPS responses, purchases) for real-time
 * evaluation, in the transaction that wrote them; returns the rows. Rows a dedupe
 * skipped are not in `rows`: an event already present changes no fact.
 */
export async function queueing<Row extends { customer_id: number }>(trx: Db, rows: Row[], now: number): Promise<Row[]> {
  await queueEvaluation(
    trx,
    rows.map((row) => row.customer_id),
    now,
  );
  return rows;
}
