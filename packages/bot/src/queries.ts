import { QUIET_DAYS, quietBefore } from "@keepwarm/core";
import type { Calendar } from "@keepwarm/rules";
import { countOpenNudges, countQuietCustomers, countTouches, quietCustomers as quietCustomerRows, type Store } from "@keepwarm/store";

export { QUIET_DAYS };

export interface QuietCustomer {
  id: number;
  externalId: string;
  name: string;
  segment: string | null;
  lastTouchAt: number | null;
  /** Calendar days since the last touch (since the relationship started when never touched). */
  daysQuiet: number | null;
}

/** Quiet customers (the store's one definition, QUIET_DAYS calendar days), quietest first: one owner's, or (null) everyone's. */
export async function quietCustomers(
  store: Store,
  ownerSlackId: string | null,
  now: number,
  calendar: Calendar,
  limit: number,
): Promise<{ rows: QuietCustomer[]; total: number }> {
  const { rows, total } = await quietCustomerRows(store.db, { quietBefore: quietBefore(calendar, now), at: now, ownerSlackId, limit });
  return {
    rows: rows.map((r) => ({
      id: r.id,
      externalId: r.externalId,
      name: r.name,
      segment: r.segment,
      lastTouchAt: r.lastTouchAt,
      daysQuiet: calendar.daysBetween(r.quietSince, now),
    })),
    total,
  };
}

export interface BasicStats {
  quiet: number;
  touchesThisWeek: number;
  openNudges: number;
  weekStart: number;
}

/** Touches since Monday 00:00 in the keepwarm time zone; quiet customers and open nudges now. */
export async function basicStats(store: Store, now: number, calendar: Calendar, ownerSlackId: string | null): Promise<BasicStats> {
  const today = calendar.dayNumber(now);
  // Day 0 (1970-01-01) was a Thursday: Monday-based weekday = (day + 3) mod 7.
  const weekStart = calendar.startOfDay(today - ((today + 3) % 7));
  return {
    quiet: await countQuietCustomers(store.db, { quietBefore: quietBefore(calendar, now), at: now, ownerSlackId }),
    touchesThisWeek: await countTouches(store.db, { from: weekStart, until: now, ownerSlackId }),
    openNudges: await countOpenNudges(store.db, ownerSlackId),
    weekStart,
  };
}
