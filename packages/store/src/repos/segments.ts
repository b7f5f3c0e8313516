import { sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import type { Db } from "../engine/transaction";

/** The segments customers have, sorted: the one list `stats --segment`, `/keepwarm stats` and rule checks offer. */
export async function knownSegments(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("customers").select("segment").distinct().where("segment", "is not", null).orderBy("segment").execute();
  return rows.map((row) => row.segment as string);
}

/** Distinct values beyond this many are not returned: a column that varied stops being checked. */
const STORED_VALUES_LIMIT = 500;

const VALUE_COLUMNS = [
  ["segment", "segment"],
  ["lifecycleStage", "lifecycle_stage"],
  ["tier", "tier"],
] as const;

/**
 * The values stored customers have, by the fact a rule would compare: segment,
 * lifecycleStage, tier and the named attributes (`attributes.<name>`), for the rule
 * validator's "no customer has" warning. A fact with more than 500 distinct values, or
 * none, is left out.
 */
export async function storedCustomerValues(db: Db, attributes: readonly string[]): Promise<Map<string, Array<string | number | boolean>>> {
  const values = new Map<string, Array<string | number | boolean>>();
  for (const [fact, column] of VALUE_COLUMNS) {
    const rows = await db
      .selectFrom("customers")
      .select(column)
      .distinct()
      .where(column, "is not", null)
      .orderBy(column)
      .limit(STORED_VALUES_LIMIT + 1)
      .execute();
    if (rows.length > 0 && rows.length <= STORED_VALUES_LIMIT)
      values.set(
        fact,
        rows.map((row) => row[column] as string),
      );
  }
  for (const name of attributes) {
    // The value as JSON text, so a boolean stays a boolean on both engines.
    const json = isPostgres(db) ? sql<string | null>`(attributes::jsonb -> ${name})::text` : sql<string | null>`attributes -> ${`$."${name}"`}`;
    const rows = await db
      .selectFrom("customers")
      .select(json.as("value"))
      .distinct()
      .limit(STORED_VALUES_LIMIT + 2)
      .execute();
    const found = rows
      .map((row) => (row.value === null ? null : (JSON.parse(row.value) as unknown)))
      .filter((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean");
    if (found.length > 0 && rows.length <= STORED_VALUES_LIMIT + 1) values.set(`attributes.${name}`, found.sort());
  }
  return values;
}
