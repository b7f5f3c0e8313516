import type { Calendar } from "@keepwarm/rules";

/** A customer is quiet after this many calendar days without a touch, whatever the rules say (KPIs stay comparable when rules change). */
export const QUIET_DAYS = 30;

/**
 * The instant before which a last touch makes a customer quiet at `at`: 30 calendar
 * days in KEEPWARM_TZ, so "quiet" agrees with the daysSinceLastTouch fact.
 */
export function quietBefore(calendar: Calendar, at: number): number {
  return calendar.startOfDay(calendar.dayNumber(at) - QUIET_DAYS + 1);
}
