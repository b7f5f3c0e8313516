import type { Db } from "../engine/transaction";
import { activeCustomerAt, customerStart, inSegment } from "./customer-scope";

/**
 * The customer-side KPI queries of `keepwarm stats`, the report and `/keepwarm stats`:
 * each one bulk statement over all customers of a segment (null = every segment).
 * What the figures mean is defined in core (stats/*) and docs/kpis.md; these only count.
 */
export interface StatsWindow {
  /** Exclusive start of the period. */
  since: number;
  /** Inclusive end of the period. */
  until: number;
  segment?: string | null | undefined;
}

export interface SegmentRetentionCounts {
  /** null: customers without a segment. */
  segment: string | null;
  /** Customers at `since`: started on or before it, not churned by it. */
  atStart: number;
  /** Customers at `until`: started on or before it, not churned by it. */
  atEnd: number;
  /** Customers who churned in (since, until]: of those at the start, and new ones. */
  churned: number;
  /** Customers who started in (since, until]. */
  new: number;
}

/** Per segment: customers at the period start and end, how many started in it and how many churned in it. */
export async function retentionCounts(db: Db, window: StatsWindow): Promise<SegmentRetentionCounts[]> {
  const { since, until } = window;
  return db
    .selectFrom("customers as c")
    .select((eb) => [
      "c.segment as segment",
      eb.fn.countAll<number>().filterWhere(activeCustomerAt(eb, since)).as("atStart"),
      eb.fn.countAll<number>().filterWhere(activeCustomerAt(eb, until)).as("atEnd"),
      eb.fn
        .countAll<number>()
        .filterWhere(eb.and([eb(customerStart(eb), "<=", until), eb("c.churned_at", ">", since), eb("c.churned_at", "<=", until)]))
        .as("churned"),
      eb.fn
        .countAll<number>()
        .filterWhere(eb.and([eb(customerStart(eb), ">", since), eb(customerStart(eb), "<=", until)]))
        .as("new"),
    ])
    .where((eb) => inSegment(eb, window.segment))
    .groupBy("c.segment")
    .execute();
}

/** Each customer active at `until`'s latest NPS score in (from, until]; customers without one are left out. */
export async function latestNpsScores(db: Db, query: { from: number; until: number; segment?: string | null | undefined }): Promise<number[]> {
  const latest = db
    .selectFrom("customers as c")
    .select((eb) =>
      eb
        .selectFrom("nps_responses as n")
        .select("n.score")
        .whereRef("n.customer_id", "=", "c.id")
        .where("n.responded_at", ">", query.from)
        .where("n.responded_at", "<=", query.until)
        .orderBy("n.responded_at", "desc")
        .limit(1)
        .as("score"),
    )
    .where((eb) => activeCustomerAt(eb, query.until))
    .where((eb) => inSegment(eb, query.segment));
  const rows = await db.selectFrom(latest.as("l")).select("l.score").where("l.score", "is not", null).execute();
  return rows.map((row) => row.score as number);
}

/** NPS responses given in (since, until] by customers of the segment, in time order. */
export async function npsResponsesBetween(db: Db, window: StatsWindow): Promise<Array<{ customerId: number; score: number; at: number }>> {
  return db
    .selectFrom("nps_responses as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select(["n.customer_id as customerId", "n.score as score", "n.responded_at as at"])
    .where("n.responded_at", ">", window.since)
    .where("n.responded_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .orderBy("n.responded_at")
    .orderBy("n.id")
    .execute();
}

/**
 * For every customer active at `at`: when the relationship started and the last touch up
 * to `at` (null: never touched). One statement, an index seek per customer.
 */
export async function lastTouchesAt(
  db: Db,
  query: { at: number; segment?: string | null | undefined },
): Promise<Array<{ startAt: number; lastTouchAt: number | null }>> {
  return db
    .selectFrom("customers as c")
    .select((eb) => [
      customerStart(eb).as("startAt"),
      eb
        .selectFrom("touchpoints as t")
        .select((e) => e.fn.max("t.occurred_at").as("m"))
        .whereRef("t.customer_id", "=", "c.id")
        .where("t.occurred_at", "<=", query.at)
        .as("lastTouchAt"),
    ])
    .where((eb) => activeCustomerAt(eb, query.at))
    .where((eb) => inSegment(eb, query.segment))
    .execute();
}

/** How many customers of the segment are active at `at`. */
export async function countActiveCustomers(db: Db, query: { at: number; segment?: string | null | undefined }): Promise<number> {
  const row = await db
    .selectFrom("customers as c")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where((eb) => activeCustomerAt(eb, query.at))
    .where((eb) => inSegment(eb, query.segment))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Touches that happened in (since, until] to customers of the segment: who logged each (null: not recorded) and when. */
export async function touchesBetween(db: Db, window: StatsWindow): Promise<Array<{ loggedBy: string | null; at: number }>> {
  return db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select(["t.logged_by as loggedBy", "t.occurred_at as at"])
    .where("t.occurred_at", ">", window.since)
    .where("t.occurred_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .execute();
}

/**
 * Customers active at `until` with at least `minPurchases` purchases in (from, until],
 * and how many of them are loyalty members now.
 */
export async function frequentBuyerCounts(
  db: Db,
  query: { from: number; until: number; minPurchases: number; segment?: string | null | undefined },
): Promise<{ frequentBuyers: number; enrolled: number }> {
  const counts = db
    .selectFrom("purchases")
    .select((eb) => ["customer_id", eb.fn.countAll<number>().as("n")])
    .where("occurred_at", ">", query.from)
    .where("occurred_at", "<=", query.until)
    .groupBy("customer_id");
  const row = await db
    .selectFrom("customers as c")
    .innerJoin(counts.as("p"), "p.customer_id", "c.id")
    .select((eb) => [eb.fn.countAll<number>().as("frequentBuyers"), eb.fn.coalesce(eb.fn.sum<number>("c.loyalty_member"), eb.lit(0)).as("enrolled")])
    .where("p.n", ">=", query.minPurchases)
    .where((eb) => activeCustomerAt(eb, query.until))
    .where((eb) => inSegment(eb, query.segment))
    .executeTakeFirstOrThrow();
  return { frequentBuyers: Number(row.frequentBuyers), enrolled: Number(row.enrolled) };
}
