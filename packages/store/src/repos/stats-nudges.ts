import type { Db } from "../engine/transaction";
import { inSegment } from "./customer-scope";
import type { StatsWindow } from "./stats";

export interface RuleFunnelCounts {
  ruleId: string;
  /** Every nudge the rule created in the window, held out or not. */
  created: number;
  heldOut: number;
  /** The counts below are of nudged (not held-out) nudges only. */
  nudged: number;
  delivered: number;
  resolvedByTouch: number;
  /** Snoozed at least once, whatever happened next. */
  snoozed: number;
  dismissed: number;
  expired: number;
  stillOpen: number;
  escalated: number;
}

/** The nudge funnel per rule: nudges created in (since, until] to customers of the segment, in their state now. */
export async function funnelCounts(db: Db, window: StatsWindow): Promise<RuleFunnelCounts[]> {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => {
      const nudged = eb("n.held_out", "=", 0);
      const count = () => eb.fn.countAll<number>();
      return [
        "n.rule_id as ruleId",
        count().as("created"),
        count().filterWhere("n.held_out", "=", 1).as("heldOut"),
        count().filterWhere(nudged).as("nudged"),
        count()
          .filterWhere(eb.and([nudged, eb("n.delivered_at", "is not", null)]))
          .as("delivered"),
        count()
          .filterWhere(eb.and([nudged, eb("n.status", "=", "resolved"), eb("n.close_reason", "=", "touch")]))
          .as("resolvedByTouch"),
        count()
          .filterWhere(eb.and([nudged, eb("n.snoozed_by", "is not", null)]))
          .as("snoozed"),
        count()
          .filterWhere(eb.and([nudged, eb("n.status", "=", "dismissed")]))
          .as("dismissed"),
        count()
          .filterWhere(eb.and([nudged, eb("n.status", "=", "expired")]))
          .as("expired"),
        count()
          .filterWhere(eb.and([nudged, eb("n.status", "in", ["open", "snoozed"])]))
          .as("stillOpen"),
        count()
          .filterWhere(eb.and([nudged, eb("n.escalated_at", "is not", null)]))
          .as("escalated"),
      ];
    })
    .where("n.created_at", ">", window.since)
    .where("n.created_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .groupBy("n.rule_id")
    .execute();
}

/** Nudged (not held-out) nudges created in the window and resolved by a touch: when each was created and when its touch happened. */
export async function touchResolvedNudges(db: Db, window: StatsWindow): Promise<Array<{ ruleId: string; createdAt: number; touchAt: number }>> {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .innerJoin("touchpoints as t", "t.id", "n.resolved_touch_id")
    .select(["n.rule_id as ruleId", "n.created_at as createdAt", "t.occurred_at as touchAt"])
    .where("n.held_out", "=", 0)
    .where("n.status", "=", "resolved")
    .where("n.created_at", ">", window.since)
    .where("n.created_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .execute();
}

export interface NudgeOutcome {
  ruleId: string;
  /** 1 when the nudge was held out (recorded, never delivered). */
  heldOut: number;
  createdAt: number;
  /** The customer's first touch after the nudge (up to `until`), or null: core decides which calendar window it falls in. */
  firstTouchAfter: number | null;
  /** The customer's latest NPS score at or before the nudge. */
  npsBefore: number | null;
  /** The customer's latest NPS score after the nudge, up to `until`. */
  npsAfter: number | null;
  /** 1 when the customer churned after the nudge, up to `until`, else 0. */
  churned: number;
}

/**
 * What happened after each nudge created in (since, until] by a rule that has held-out
 * nudges, for the nudged-vs-held-out comparison. Ordered by rule, then nudge.
 */
export async function holdoutNudgeOutcomes(db: Db, query: StatsWindow): Promise<NudgeOutcome[]> {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => {
      const firstTouchAfter = eb
        .selectFrom("touchpoints as t")
        .select((inner) => inner.fn.min("t.occurred_at").as("at"))
        .whereRef("t.customer_id", "=", "n.customer_id")
        .whereRef("t.occurred_at", ">", "n.created_at")
        .where("t.occurred_at", "<=", query.until);
      const latestNps = () =>
        eb.selectFrom("nps_responses as r").select("r.score").whereRef("r.customer_id", "=", "n.customer_id").orderBy("r.responded_at", "desc").limit(1);
      return [
        "n.rule_id as ruleId",
        "n.held_out as heldOut",
        "n.created_at as createdAt",
        firstTouchAfter.as("firstTouchAfter"),
        latestNps().whereRef("r.responded_at", "<=", "n.created_at").as("npsBefore"),
        latestNps().whereRef("r.responded_at", ">", "n.created_at").where("r.responded_at", "<=", query.until).as("npsAfter"),
        eb
          .case()
          .when(eb.and([eb("c.churned_at", "is not", null), eb("c.churned_at", ">", eb.ref("n.created_at")), eb("c.churned_at", "<=", query.until)]))
          .then(1)
          .else(0)
          .end()
          .as("churned"),
      ];
    })
    .where("n.created_at", ">", query.since)
    .where("n.created_at", "<=", query.until)
    .where((eb) => inSegment(eb, query.segment))
    .where("n.rule_id", "in", (eb) => eb.selectFrom("nudges").select("rule_id").distinct().where("held_out", "=", 1))
    .orderBy("n.rule_id")
    .orderBy("n.id")
    .execute() as Promise<NudgeOutcome[]>;
}
