import type { Db } from "../engine/transaction";

/** The segments customers have, sorted: the one list `stats --segment`, `/keepwarm stats` and rule checks offer. */
export async function knownSegments(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("customers").select("segment").distinct().where("segment", "is not", null).orderBy("segment").execute();
  return rows.map((row) => row.segment as string);
}
