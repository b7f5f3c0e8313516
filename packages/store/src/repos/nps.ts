import type { Db } from "../engine/transaction";
import type { NewNpsResponse } from "../tables/nps-responses.table";

/** Rows per INSERT: 5 columns, well under both engines' bound-parameter limits. */
const INSERT_BATCH = 1000;

/**
 * Insert NPS responses; a response is one per customer and instant, so one already
 * stored (or earlier in `rows`) is skipped. Returns the rows inserted, with the key
 * that tells them apart (so a caller can say which of its rows were new).
 */
export async function insertNpsResponses(db: Db, rows: readonly NewNpsResponse[]): Promise<Array<{ id: number; customer_id: number; responded_at: number }>> {
  const ids: Array<{ id: number; customer_id: number; responded_at: number }> = [];
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    const inserted = await db
      .insertInto("nps_responses")
      .values(rows.slice(start, start + INSERT_BATCH))
      .onConflict((oc) => oc.columns(["customer_id", "responded_at"]).doNothing())
      .returning(["id", "customer_id", "responded_at"])
      .execute();
    for (const row of inserted) ids.push(row);
  }
  return ids;
}
