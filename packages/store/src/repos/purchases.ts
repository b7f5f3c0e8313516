import type { Db } from "../engine/transaction";
import type { NewPurchase } from "../tables/purchases.table";

/** Rows per INSERT: 5 columns, well under both engines' bound-parameter limits. */
const INSERT_BATCH = 1000;

/**
 * Insert purchases; one whose dedupe_key is already stored (or earlier in `rows`) is
 * skipped. Returns the rows inserted, with their dedupe key.
 */
export async function insertPurchases(db: Db, rows: readonly NewPurchase[]): Promise<Array<{ id: number; customer_id: number; dedupe_key: string }>> {
  const ids: Array<{ id: number; customer_id: number; dedupe_key: string }> = [];
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    const inserted = await db
      .insertInto("purchases")
      .values(rows.slice(start, start + INSERT_BATCH))
      .onConflict((oc) => oc.column("dedupe_key").doNothing())
      .returning(["id", "customer_id", "dedupe_key"])
      .execute();
    for (const row of inserted) ids.push(row);
  }
  return ids;
}
