import type { Db } from "../engine/transaction";
import type { NudgeStatus } from "../tables/nudges.table";

/** A nudge with everything its message shows, in Slack or on the console. */
export interface NudgeView {
  nudgeId: number;
  ruleId: string;
  status: NudgeStatus;
  priority: number;
  explanation: string;
  message: string;
  action: string | null;
  facts: string;
  destination: string;
  closeReason: string | null;
  closedBy: string | null;
  closeNote: string | null;
  snoozedUntil: number | null;
  snoozedBy: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  createdAt: number;
  customerId: number;
  customerExternalId: string;
  customerName: string;
  segment: string | null;
  tier: string | null;
  ownerSlackId: string | null;
  /** Who took the (then unowned) customer from this nudge with "I'll take it". */
  claimedBy: string | null;
  /** The kind of the touch that resolved it, if one did. */
  touchKind: string | null;
}

/**
 * The one select of a NudgeView, over `nudges n JOIN customers c`: callers add their
 * own where, order and joins (the outbox claim joins `outbox o` onto it).
 */
export function selectNudgeViews(db: Db) {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => [
      "n.id as nudgeId",
      "n.rule_id as ruleId",
      "n.status as status",
      "n.priority as priority",
      "n.explanation as explanation",
      "n.message as message",
      "n.action as action",
      "n.facts as facts",
      "n.destination as destination",
      "n.close_reason as closeReason",
      "n.closed_by as closedBy",
      "n.close_note as closeNote",
      "n.snoozed_until as snoozedUntil",
      "n.snoozed_by as snoozedBy",
      "n.slack_channel as slackChannel",
      "n.slack_ts as slackTs",
      "n.created_at as createdAt",
      "n.claimed_by as claimedBy",
      "c.id as customerId",
      "c.external_id as customerExternalId",
      "c.name as customerName",
      "c.segment as segment",
      "c.tier as tier",
      "c.owner_slack_id as ownerSlackId",
      eb.selectFrom("touchpoints as t").select("t.kind").whereRef("t.id", "=", "n.resolved_touch_id").as("touchKind"),
    ]);
}

export async function nudgeView(db: Db, nudgeId: number): Promise<NudgeView | undefined> {
  return selectNudgeViews(db).where("n.id", "=", nudgeId).executeTakeFirst();
}

/** Every nudge shown in one Slack message (one, or several for a digest), in posting order. */
export async function nudgesOfMessage(db: Db, channel: string, ts: string): Promise<NudgeView[]> {
  // Its nudges: those whose latest message it is, and those posted again since (re-delivered).
  return selectNudgeViews(db)
    .where((eb) =>
      eb.or([
        eb.and([eb("n.slack_channel", "=", channel), eb("n.slack_ts", "=", ts)]),
        eb("n.id", "in", eb.selectFrom("nudge_earlier_messages as m").select("m.nudge_id").where("m.slack_channel", "=", channel).where("m.slack_ts", "=", ts)),
      ]),
    )
    .orderBy("n.priority", "desc")
    .orderBy("n.id")
    .execute();
}

/** The user's open nudges (held-out ones are never shown), most urgent first. */
export async function openNudgesOf(db: Db, ownerSlackId: string, limit: number): Promise<NudgeView[]> {
  return selectNudgeViews(db)
    .where("c.owner_slack_id", "=", ownerSlackId)
    .where("n.status", "=", "open")
    .where("n.held_out", "=", 0)
    .orderBy("n.priority", "desc")
    .orderBy("n.created_at")
    .orderBy("n.id")
    .limit(limit)
    .execute();
}

/** A customer's live (open or snoozed) nudges, most urgent first. */
export async function liveNudgesOfCustomer(db: Db, customerId: number): Promise<NudgeView[]> {
  return selectNudgeViews(db)
    .where("n.customer_id", "=", customerId)
    .where("n.status", "in", ["open", "snoozed"])
    .where("n.held_out", "=", 0)
    .orderBy("n.priority", "desc")
    .orderBy("n.id")
    .execute();
}

/** Open nudges (not held out) of the customers of one owner, or of everyone with `null`. */
export async function countOpenNudges(db: Db, ownerSlackId: string | null): Promise<number> {
  let query = db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("n.status", "=", "open")
    .where("n.held_out", "=", 0);
  if (ownerSlackId !== null) query = query.where("c.owner_slack_id", "=", ownerSlackId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/**
 * The user's open nudges not yet sent by DM: over the daily nudge budget, or not
 * delivered yet. They are on the App Home meanwhile and arrive by DM on a later day.
 */
export async function countWaitingNudges(db: Db, ownerSlackId: string): Promise<number> {
  const row = await db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("c.owner_slack_id", "=", ownerSlackId)
    .where("n.status", "=", "open")
    .where("n.held_out", "=", 0)
    .where("n.delivered_at", "is", null)
    .where("n.destination", "=", "owner")
    .where(({ exists, selectFrom }) =>
      exists(selectFrom("outbox as o").select("o.id").whereRef("o.nudge_id", "=", "n.id").where("o.kind", "=", "deliver").where("o.status", "=", "pending")),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every nudge not held out, oldest first: the ones a delivery must post. */
export async function nudgeIdsNotHeldOut(db: Db): Promise<number[]> {
  const rows = await db.selectFrom("nudges").select("id").where("held_out", "=", 0).orderBy("id").execute();
  return rows.map((row) => row.id);
}

export interface NudgeFilter {
  status?: NudgeStatus | undefined;
  ownerSlackId?: string | undefined;
  ruleId?: string | undefined;
  /** Only nudges with a smaller id: the next page after the last one seen. */
  beforeId?: number | undefined;
  limit: number;
}

/** Nudges (held-out ones are never shown) by status, owner and rule, newest first, a page at a time. */
export async function listNudges(db: Db, filter: NudgeFilter): Promise<NudgeView[]> {
  let query = selectNudgeViews(db).where("n.held_out", "=", 0);
  if (filter.status !== undefined) query = query.where("n.status", "=", filter.status);
  if (filter.ownerSlackId !== undefined) query = query.where("c.owner_slack_id", "=", filter.ownerSlackId);
  if (filter.ruleId !== undefined) query = query.where("n.rule_id", "=", filter.ruleId);
  if (filter.beforeId !== undefined) query = query.where("n.id", "<", filter.beforeId);
  return query.orderBy("n.id", "desc").limit(filter.limit).execute();
}
