import type { Store } from "@keepwarm/store";
import { QUIET_DAYS } from "../quiet";
import { ACTIVE_AT, SEGMENT_FILTER, type StatsPeriod } from "./period";

/** Calendar days since the last touch (from `since` when never touched), like the fact of the same name. */
export const TOUCH_BUCKETS = [
  { label: "0–6", min: 0, max: 6 },
  { label: "7–13", min: 7, max: 13 },
  { label: "14–29", min: 14, max: 29 },
  { label: "30–59", min: 30, max: 59 },
  { label: "60–89", min: 60, max: 89 },
  { label: "90+", min: 90, max: Number.POSITIVE_INFINITY },
] as const;

export interface TouchCadenceStats {
  at: number;
  customers: number;
  buckets: Array<{ label: string; count: number }>;
  neverTouched: number;
  quiet: number;
  quietDays: number;
}

/** Days since last touch for every active customer at `at`: one statement, index seeks per customer. */
function daysSinceLastTouch(store: Store, at: number, period: Pick<StatsPeriod, "calendar" | "segment">): Array<{ days: number; never: boolean }> {
  const rows = store.sqlite
    .prepare(
      `SELECT coalesce(c.since_at, c.created_at) AS startAt,
         (SELECT max(t.occurred_at) FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at <= @at) AS lastTouchAt
       FROM customers c WHERE ${SEGMENT_FILTER} AND ${ACTIVE_AT("@at")}`,
    )
    .all({ at, segment: period.segment ?? null }) as Array<{ startAt: number; lastTouchAt: number | null }>;
  return rows.map((r) => ({ days: period.calendar.daysBetween(r.lastTouchAt ?? r.startAt, at), never: r.lastTouchAt === null }));
}

export function touchCadenceStats(store: Store, period: StatsPeriod, at = period.until): TouchCadenceStats {
  const days = daysSinceLastTouch(store, at, period);
  return {
    at,
    customers: days.length,
    buckets: TOUCH_BUCKETS.map((b) => ({ label: b.label, count: days.filter((d) => d.days >= b.min && d.days <= b.max).length })),
    neverTouched: days.filter((d) => d.never).length,
    quiet: days.filter((d) => d.days >= QUIET_DAYS).length,
    quietDays: QUIET_DAYS,
  };
}

/** Quiet customers at each instant (history replayed: only touches up to that instant count). */
export function quietSeries(
  store: Store,
  period: Pick<StatsPeriod, "calendar" | "segment">,
  instants: readonly number[],
): Array<{ at: number; quiet: number; customers: number }> {
  return instants.map((at) => {
    const days = daysSinceLastTouch(store, at, period);
    return { at, quiet: days.filter((d) => d.days >= QUIET_DAYS).length, customers: days.length };
  });
}
