import type { Db } from "../engine/transaction";
import type { NewNpsResponse } from "../tables/nps-responses.table";

/** Rows per INSERT: 5 columns, well under both engines' bound-parameter limits. */
const INSERT_BATCH = 1000;

/**
 * Insert NPS responses; a response is one per customer and instant, so one already
 * stored (or earlier in `rows`) is skipped. Returns the ids of the rows inserted.
 */
export async function insertNpsResponses(db: Db, rows: readonly NewNpsResponse[]): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    const inserted = await db
      .insertInto("nps_responses")
      .values(rows.slice(start, start + INSERT_BATCH))
      .onConflict((oc) => oc.columns(["customer_id", "responded_at"]).doNothing())
      .returning("id")
      .execute();
    for (const row of inserted) ids.push(row.id);
  }
  return ids;
}
