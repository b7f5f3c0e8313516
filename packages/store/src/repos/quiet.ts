import type { ExpressionBuilder } from "kysely";
import type { Db } from "../engine/transaction";
import type { Database } from "../schema";
import { activeCustomerAt, customerStart, inSegment } from "./customer-scope";

/**
 * "Quiet customer", defined once. A customer is quiet at `at` when they are active then
 * (started, not churned) and their last touch up to `at` — or, never touched, the
 * start of the relationship (`since`, else when they were added) — lies before
 * `quietBefore`. Core computes `quietBefore` from the calendar (30 calendar days in
 * KEEPWARM_TZ); the bot's lists, the App Home and `stats` all count with this.
 */
export interface QuietQuery {
  quietBefore: number;
  /** The instant to judge at: touches after it do not count (history replay). Default: now. */
  at?: number;
  ownerSlackId?: string | null;
  segment?: string | null;
  limit?: number;
}

export interface QuietCustomerRow {
  id: number;
  externalId: string;
  name: string;
  segment: string | null;
  ownerSlackId: string | null;
  /** The last touch up to `at`; null when never touched. */
  lastTouchAt: number | null;
  /** What the quiet period counts from: the last touch, else since, else created. */
  quietSince: number;
}

function quietBase(db: Db, query: QuietQuery) {
  const at = query.at ?? Date.now();
  const lastTouch = (eb: ExpressionBuilder<Database & { c: Database["customers"] }, "c">) =>
    eb
      .selectFrom("touchpoints as t")
      .select((e) => e.fn.max("t.occurred_at").as("m"))
      .whereRef("t.customer_id", "=", "c.id")
      .where("t.occurred_at", "<=", at);
  let inner = db
    .selectFrom("customers as c")
    .select((eb) => [
      "c.id as id",
      "c.external_id as externalId",
      "c.name as name",
      "c.segment as segment",
      "c.owner_slack_id as ownerSlackId",
      lastTouch(eb).as("lastTouchAt"),
      eb.fn.coalesce(lastTouch(eb), customerStart(eb)).as("quietSince"),
    ])
    .where((eb) => activeCustomerAt(eb, at))
    .where((eb) => inSegment(eb, query.segment));
  if (query.ownerSlackId !== undefined && query.ownerSlackId !== null) inner = inner.where("c.owner_slack_id", "=", query.ownerSlackId);
  return db.selectFrom(inner.as("q")).where("q.quietSince", "<", query.quietBefore);
}

/** Quiet customers, quietest first (then by name), and how many there are in all. */
export async function quietCustomers(db: Db, query: QuietQuery): Promise<{ rows: QuietCustomerRow[]; total: number }> {
  const rows = (await quietBase(db, query)
    .selectAll("q")
    .orderBy("q.quietSince")
    .orderBy("q.name")
    .orderBy("q.id")
    .limit(query.limit ?? 50)
    .execute()) as QuietCustomerRow[];
  const counted = await quietBase(db, query)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return { rows, total: Number(counted.n) };
}

/** How many customers are quiet (see quietCustomers). */
export async function countQuietCustomers(db: Db, query: Omit<QuietQuery, "limit">): Promise<number> {
  const counted = await quietBase(db, query)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(counted.n);
}
