import { sql } from "kysely";
import type { Db } from "../engine/transaction";
import { HISTORY_TABLES, type ScanCustomer } from "./fact-scan.shared";

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

type HistoryOf = keyof typeof HISTORY_TABLES;

/** One history table's rows of customers in (after, last] up to `until`, in the fact scan's order. */
async function historyRows<V>(db: Db, of: HistoryOf, after: number, last: number, until: number) {
  const { table, time, value } = HISTORY_TABLES[of];
  return db
    .selectFrom(table)
    .select(["customer_id as customerId", sql<number>`${sql.ref(time)}`.as("at"), sql<V>`${sql.ref(value)}`.as("value")])
    .where("customer_id", ">", after)
    .where("customer_id", "<=", last)
    .where(sql.ref(time), "<=", until)
    .orderBy("customer_id")
    .orderBy(sql.ref(time))
    .orderBy("id")
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
  tables: ReadonlySet<HistoryOf> = new Set(["touches", "nps", "purchases"]),
): Promise<{
  touches: Array<{ customerId: number; at: number; kind: string }>;
  nps: Array<{ customerId: number; at: number; score: number }>;
  purchases: Array<{ customerId: number; at: number; cents: number }>;
}> {
  const read = async <V>(of: HistoryOf) => (tables.has(of) ? historyRows<V>(db, of, after, last, until) : []);
  const [touches, nps, purchases] = [await read<string>("touches"), await read<number>("nps"), await read<number>("purchases")];
  return {
    touches: touches.map(({ customerId, at, value }) => ({ customerId, at, kind: value })),
    nps: nps.map(({ customerId, at, value }) => ({ customerId, at, score: value })),
    purchases: purchases.map(({ customerId, at, value }) => ({ customerId, at, cents: value })),
  };
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
