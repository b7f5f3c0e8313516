import type { Db } from "../engine/transaction";

// What Slack shows about customers: `/keepwarm customer`, the touch form, the App Home numbers.

/** Whether this user owns any customer (their numbers are then theirs, else the team's). */
export async function ownsCustomers(db: Db, ownerSlackId: string): Promise<boolean> {
  const row = await db.selectFrom("customers").select("id").where("owner_slack_id", "=", ownerSlackId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export interface RecentTouch {
  kind: string;
  occurredAt: number;
  loggedBy: string | null;
  note: string | null;
}

/** A customer's latest touches, newest first. */
export async function recentTouches(db: Db, customerId: number, limit: number): Promise<RecentTouch[]> {
  return db
    .selectFrom("touchpoints")
    .select(["kind", "occurred_at as occurredAt", "logged_by as loggedBy", "note"])
    .where("customer_id", "=", customerId)
    .orderBy("occurred_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** A customer's latest NPS answers, newest first. */
export async function npsHistory(db: Db, customerId: number, limit: number): Promise<Array<{ score: number; respondedAt: number }>> {
  return db
    .selectFrom("nps_responses")
    .select(["score", "responded_at as respondedAt"])
    .where("customer_id", "=", customerId)
    .orderBy("responded_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** Touches that happened in [from, until], of one owner's customers or (null) of all. */
export async function countTouches(db: Db, range: { from: number; until: number; ownerSlackId: string | null }): Promise<number> {
  let query = db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("t.occurred_at", ">=", range.from)
    .where("t.occurred_at", "<=", range.until);
  if (range.ownerSlackId !== null) query = query.where("c.owner_slack_id", "=", range.ownerSlackId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}
