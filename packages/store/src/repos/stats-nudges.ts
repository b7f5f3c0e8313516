import type { Db } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";
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
  /** Nudged nudges closed by now (resolved, dismissed or expired): the noise measures below count these only. */
  settled: number;
  /** Snoozed two or more times. */
  snoozedRepeatedly: number;
  /** Expired (conditions cleared) with no touch of the customer between the nudge and its expiry. */
  expiredUntouched: number;
  /** Resolved by a touch that came only after `routineAfterMs`: nobody acted on the nudge in time. */
  resolvedByRoutineTouch: number;
  /** The customer had a touch in the `alreadyTouchedMs` before the nudge was created. */
  alreadyTouched: number;
  /** Nudges with at least one of: dismissed, snoozed repeatedly, expired untouched, resolved by a routine touch. */
  noisy: number;
}

/** The windows the noise measures use (the caller's constants, so the store holds no policy). */
export interface NoiseWindows {
  routineAfterMs: number;
  alreadyTouchedMs: number;
}

/** The nudge funnel per rule: nudges created in (since, until] to customers of the segment, in their state now. */
export async function funnelCounts(db: Db, window: StatsWindow & NoiseWindows): Promise<RuleFunnelCounts[]> {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => {
      const nudged = eb("n.held_out", "=", 0);
      const settled = eb.and([nudged, eb("n.status", "not in", LIVE_STATUSES)]);
      const count = () => eb.fn.countAll<number>();
      const touchOfCustomer = () => eb.selectFrom("touchpoints as t").select(eb.lit(1).as("one")).whereRef("t.customer_id", "=", "n.customer_id");
      const dismissed = eb("n.status", "=", "dismissed");
      const snoozedRepeatedly = eb("n.snooze_count", ">=", 2);
      const expiredUntouched = eb.and([
        eb("n.status", "=", "expired"),
        eb.not(eb.exists(touchOfCustomer().whereRef("t.occurred_at", ">", "n.created_at").whereRef("t.occurred_at", "<=", "n.closed_at"))),
      ]);
      const resolvedByRoutineTouch = eb.and([
        eb("n.status", "=", "resolved"),
        eb("n.close_reason", "=", "touch"),
        eb.exists(
          eb
            .selectFrom("touchpoints as t")
            .select(eb.lit(1).as("one"))
            .whereRef("t.id", "=", "n.resolved_touch_id")
            .where("t.occurred_at", ">", eb("n.created_at", "+", window.routineAfterMs)),
        ),
      ]);
      const alreadyTouched = eb.exists(
        touchOfCustomer()
          .where("t.occurred_at", ">", eb("n.created_at", "-", window.alreadyTouchedMs))
          .whereRef("t.occurred_at", "<=", "n.created_at"),
      );
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
        count().filterWhere(settled).as("settled"),
        count()
          .filterWhere(eb.and([settled, snoozedRepeatedly]))
          .as("snoozedRepeatedly"),
        count()
          .filterWhere(eb.and([settled, expiredUntouched]))
          .as("expiredUntouched"),
        count()
          .filterWhere(eb.and([settled, resolvedByRoutineTouch]))
          .as("resolvedByRoutineTouch"),
        count()
          .filterWhere(eb.and([settled, alreadyTouched]))
          .as("alreadyTouched"),
        count()
          .filterWhere(eb.and([settled, eb.or([dismissed, snoozedRepeatedly, expiredUntouched, resolvedByRoutineTouch])]))
          .as("noisy"),
      ];
    })
    .where("n.created_at", ">", window.since)
    .where("n.created_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .groupBy("n.rule_id")
    .execute();
}

/** Why nudged nudges created in the window were dismissed: per rule, each reason (trimmed, lower case; null when none was given) and how often. */
export async function dismissReasons(db: Db, window: StatsWindow): Promise<Array<{ ruleId: string; reason: string | null; n: number }>> {
  const rows = await db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => ["n.rule_id as ruleId", eb.fn<string | null>("lower", [eb.fn("trim", ["n.close_note"])]).as("reason"), eb.fn.countAll<number>().as("n")])
    .where("n.held_out", "=", 0)
    .where("n.status", "=", "dismissed")
    .where("n.created_at", ">", window.since)
    .where("n.created_at", "<=", window.until)
    .where((eb) => inSegment(eb, window.segment))
    .groupBy(["n.rule_id", (eb) => eb.fn("lower", [eb.fn("trim", ["n.close_note"])])])
    .execute();
  return rows.map((row) => ({ ruleId: row.ruleId, reason: row.reason === "" ? null : row.reason, n: Number(row.n) }));
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
  /** The message version of a rule's A/B test, else null. */
  variant: "a" | "b" | null;
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
 * What happened after each nudge created in (since, until], for one experiment: every
 * nudge of the rules that have held-out nudges (nudged vs held out), or the nudged
 * nudges that carried an A/B version (version a vs b). Ordered by rule, then nudge.
 */
export async function nudgeOutcomes(db: Db, query: StatsWindow & { experiment: "holdout" | "variant" }): Promise<NudgeOutcome[]> {
  let select = db
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
        "n.variant as variant",
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
    .where((eb) => inSegment(eb, query.segment));
  select =
    query.experiment === "holdout"
      ? select.where("n.rule_id", "in", (eb) => eb.selectFrom("nudges").select("rule_id").distinct().where("held_out", "=", 1))
      : select.where("n.variant", "is not", null).where("n.held_out", "=", 0);
  return select.orderBy("n.rule_id").orderBy("n.id").execute() as Promise<NudgeOutcome[]>;
}
