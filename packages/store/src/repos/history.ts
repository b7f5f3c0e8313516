import type { Db } from "../engine/transaction";
import type { ScanCustomer } from "./fact-scan.shared";

/** The customer columns the fact scan reads, as a replay of past days needs them. */
export type HistoryCustomer = ScanCustomer;

/** Up to `limit` customers with ids above `after`, in id order (churned ones included). */
export async function customersAfter(db: Db, after: number, limit: number): Promise<HistoryCustomer[]> {
  return db
    .selectFrom("customers")
    .select([
      "id",
      "external_id as externalId",
      "name",
      "segment",
      "lifecycle_stage as lifecycleStage",
      "tier",
      "owner_slack_id as ownerSlackId",
      "loyalty_member as loyaltyMember",
      "since_at as sinceAt",
      "renewal_at as renewalAt",
      "churned_at as churnedAt",
      "created_at as createdAt",
      "attributes",
    ])
    .where("id", ">", after)
    .orderBy("id")
    .limit(limit)
    .execute();
}

/**
 * The touches, NPS responses and purchases up to `until` of the customers with ids in
 * (after, last], each list by customer then time (events at one instant by id), as
 * the fact scan orders them. Only the tables in `tables` are read (the others come
 * back empty): a replay of rules that read no NPS fact never reads nps_responses.
 */
export async function historiesInRange(
  db: Db,
  after: number,
  last: number,
  until: number,
  tables: ReadonlySet<"touches" | "nps" | "purchases"> = new Set(["touches", "nps", "purchases"]),
): Promise<{
  touches: Array<{ customerId: number; at: number; kind: string }>;
  nps: Array<{ customerId: number; at: number; score: number }>;
  purchases: Array<{ customerId: number; at: number; cents: number }>;
}> {
  const touches = !tables.has("touches")
    ? []
    : await db
        .selectFrom("touchpoints")
        .select(["customer_id as customerId", "occurred_at as at", "kind"])
        .where("customer_id", ">", after)
        .where("customer_id", "<=", last)
        .where("occurred_at", "<=", until)
        .orderBy("customer_id")
        .orderBy("occurred_at")
        .orderBy("id")
        .execute();
  const nps = !tables.has("nps")
    ? []
    : await db
        .selectFrom("nps_responses")
        .select(["customer_id as customerId", "responded_at as at", "score"])
        .where("customer_id", ">", after)
        .where("customer_id", "<=", last)
        .where("responded_at", "<=", until)
        .orderBy("customer_id")
        .orderBy("responded_at")
        .orderBy("id")
        .execute();
  const purchases = !tables.has("purchases")
    ? []
    : await db
        .selectFrom("purchases")
        .select(["customer_id as customerId", "occurred_at as at", "amount_cents as cents"])
        .where("customer_id", ">", after)
        .where("customer_id", "<=", last)
        .where("occurred_at", "<=", until)
        .orderBy("customer_id")
        .orderBy("occurred_at")
        .orderBy("id")
        .execute();
  return { touches, nps, purchases };
}

/** The touch times in (after, until] of each of `customerIds` that has any, ascending. */
export async function touchTimes(db: Db, customerIds: readonly number[], after: number, until: number): Promise<Map<number, number[]>> {
  const times = new Map<number, number[]>();
  const ids = [...new Set(customerIds)];
  for (let start = 0; start < ids.length; start += 1000) {
    const rows = await db
      .selectFrom("touchpoints")
      .select(["customer_id as customerId", "occurred_at as at"])
      .where("customer_id", "in", ids.slice(start, start + 1000))
      .where("occurred_at", ">", after)
      .where("occurred_at", "<=", until)
      .orderBy("customer_id")
      .orderBy("occurred_at")
      .execute();
    for (const { customerId, at } of rows) {
      const list = times.get(customerId);
      if (list === undefined) times.set(customerId, [at]);
      else list.push(at);
    }
  }
  return times;
}

/** When each churned customer churned, by customer id. */
export async function churnDates(db: Db): Promise<Map<number, number>> {
  const rows = await db.selectFrom("customers").select(["id", "churned_at as churnedAt"]).where("churned_at", "is not", null).execute();
  return new Map(rows.map((row) => [row.id, row.churnedAt as number]));
}
