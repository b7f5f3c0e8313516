import type { Store } from "@keepwarm/store";
import { daysOf, median, round1, SEGMENT_FILTER, type StatsPeriod } from "./period";

export interface RuleFunnel {
  ruleId: string;
  /** Every nudge the rule created in the period, held out or not. */
  created: number;
  heldOut: number;
  /** The stages below count nudged (not held-out) nudges only. */
  nudged: number;
  delivered: number;
  resolvedByTouch: number;
  /** Snoozed at least once (whatever happened next). */
  snoozed: number;
  dismissed: number;
  expired: number;
  stillOpen: number;
  escalated: number;
  /** Median days from the nudge's creation to the touch that resolved it, one decimal. */
  medianDaysToTouch: number | null;
}

/** The nudge funnel per rule, for nudges created in (since, until], in their state now. */
export function funnelStats(store: Store, period: StatsPeriod): RuleFunnel[] {
  const params = { since: period.since, until: period.until, segment: period.segment ?? null };
  const rows = store.sqlite
    .prepare(
      `SELECT n.rule_id AS ruleId, count(*) AS created, sum(n.held_out) AS heldOut,
         sum(n.held_out = 0) AS nudged,
         sum(n.held_out = 0 AND n.delivered_at IS NOT NULL) AS delivered,
         sum(n.held_out = 0 AND n.status = 'resolved' AND n.close_reason = 'touch') AS resolvedByTouch,
         sum(n.held_out = 0 AND n.snoozed_by IS NOT NULL) AS snoozed,
         sum(n.held_out = 0 AND n.status = 'dismissed') AS dismissed,
         sum(n.held_out = 0 AND n.status = 'expired') AS expired,
         sum(n.held_out = 0 AND n.status IN ('open','snoozed')) AS stillOpen,
         sum(n.held_out = 0 AND n.escalated_at IS NOT NULL) AS escalated
       FROM nudges n JOIN customers c ON c.id = n.customer_id
       WHERE n.created_at > @since AND n.created_at <= @until AND ${SEGMENT_FILTER}
       GROUP BY n.rule_id ORDER BY n.rule_id`,
    )
    .all(params) as Array<Omit<RuleFunnel, "medianDaysToTouch">>;
  const durations = store.sqlite
    .prepare(
      `SELECT n.rule_id AS ruleId, max(0, t.occurred_at - n.created_at) AS ms
       FROM nudges n JOIN customers c ON c.id = n.customer_id JOIN touchpoints t ON t.id = n.resolved_touch_id
       WHERE n.held_out = 0 AND n.status = 'resolved' AND n.created_at > @since AND n.created_at <= @until AND ${SEGMENT_FILTER}`,
    )
    .all(params) as Array<{ ruleId: string; ms: number }>;
  return rows.map((r) => {
    const m = median(durations.filter((d) => d.ruleId === r.ruleId).map((d) => daysOf(d.ms)));
    return { ...r, medianDaysToTouch: m === null ? null : round1(m) };
  });
}
