import { countActiveCustomers, countQuietCustomers, lastTouchesAt, type Store } from "@keepwarm/store";
import { QUIET_DAYS, quietBefore } from "../quiet";
import type { StatsPeriod } from "./period";

/**
 * Calendar days since the last touch (from `since` when never touched), like the fact of
 * the same name. The 30+ buckets hold exactly the quiet customers (QUIET_DAYS).
 */
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

/** Calendar days since the last touch of every active customer at `at` (from their start when never touched). */
async function daysSinceLastTouch(
  store: Store,
  at: number,
  period: Pick<StatsPeriod, "calendar" | "segment">,
): Promise<Array<{ days: number; never: boolean }>> {
  const rows = await lastTouchesAt(store.db, { at, segment: period.segment ?? null });
  return rows.map((r) => ({ days: period.calendar.daysBetween(r.lastTouchAt ?? r.startAt, at), never: r.lastTouchAt === null }));
}

/** Quiet customers at `at`, counted by the one definition (the store's, with the calendar cutoff) the bot's lists use too. */
function countQuiet(store: Store, at: number, period: Pick<StatsPeriod, "calendar" | "segment">): Promise<number> {
  return countQuietCustomers(store.db, { quietBefore: quietBefore(period.calendar, at), at, segment: period.segment ?? null });
}

export async function touchCadenceStats(store: Store, period: StatsPeriod, at = period.until): Promise<TouchCadenceStats> {
  const days = await daysSinceLastTouch(store, at, period);
  return {
    at,
    customers: days.length,
    buckets: TOUCH_BUCKETS.map((b) => ({ label: b.label, count: days.filter((d) => d.days >= b.min && d.days <= b.max).length })),
    neverTouched: days.filter((d) => d.never).length,
    quiet: await countQuiet(store, at, period),
    quietDays: QUIET_DAYS,
  };
}

/** Quiet customers at each instant (history replayed: only touches up to that instant count). */
export async function quietSeries(
  store: Store,
  period: Pick<StatsPeriod, "calendar" | "segment">,
  instants: readonly number[],
): Promise<Array<{ at: number; quiet: number; customers: number }>> {
  const series: Array<{ at: number; quiet: number; customers: number }> = [];
  for (const at of instants) {
    series.push({ at, quiet: await countQuiet(store, at, period), customers: await countActiveCustomers(store.db, { at, segment: period.segment ?? null }) });
  }
  return series;
}
