import type { Calendar } from "@keepwarm/rules";
import { DAY_MS, type StatsWindow } from "@keepwarm/store";
import { DATE_ONLY, parseIsoInstant } from "../dates";
import { UserError } from "../errors";

/** The window every KPI is computed over: (since, until], optionally one segment. */
export interface StatsPeriod {
  since: number;
  until: number;
  calendar: Calendar;
  /** Only customers of this segment; undefined = all. */
  segment?: string | undefined;
}

/** `stats`, `report`, `/keepwarm stats` and App Home all cover this many calendar days by default, today included. */
export const DEFAULT_STATS_DAYS = 90;

/**
 * A period's exclusive start when it begins on local day `day` (KEEPWARM_TZ): the last
 * millisecond before that day's midnight. So an event dated that day (a bare date is its
 * local midnight) falls inside the period: a churn dated on the first day belongs to it.
 */
export const periodStartBefore = (calendar: Calendar, day: number): number => calendar.startOfDay(day) - 1;

/** A period's inclusive end when it ends on local day `day`: the last millisecond of that day. */
export const periodEndOf = (calendar: Calendar, day: number): number => calendar.startOfDay(day + 1) - 1;

/** The `days` calendar days ending on `until`'s day (that day included), up to `until`. */
export function lastDays(days: number, until: number, calendar: Calendar): { since: number; until: number } {
  return { since: periodStartBefore(calendar, calendar.dayNumber(until) - days + 1), until };
}

/** The default period: the last DEFAULT_STATS_DAYS calendar days, today included, up to now. */
export function defaultStatsPeriod(now: number, calendar: Calendar, segment?: string): StatsPeriod {
  return { ...lastDays(DEFAULT_STATS_DAYS, now, calendar), calendar, segment };
}

/**
 * `--since` / `--until` as a period. A bare date is a whole calendar day in KEEPWARM_TZ:
 * `--since 2026-03-01 --until 2026-03-31` is March, both days included. A date-time is
 * that instant. Without `--since`, the DEFAULT_STATS_DAYS days ending on `until`'s day;
 * without `--until`, now.
 */
export function periodFromDates(
  input: { since?: string | undefined; until?: string | undefined },
  now: number,
  calendar: Calendar,
): { since: number; until: number } {
  const read = (flag: string, text: string, dayBound: (day: number) => number) => {
    const at = parseIsoInstant(text, calendar);
    if (at === undefined) throw new UserError(`--${flag} "${text}" is not a date (YYYY-MM-DD)`);
    return DATE_ONLY.test(text.trim()) ? dayBound(calendar.dayNumber(at)) : at;
  };
  const until = input.until === undefined ? now : read("until", input.until, (day) => periodEndOf(calendar, day));
  const since =
    input.since === undefined ? lastDays(DEFAULT_STATS_DAYS, until, calendar).since : read("since", input.since, (day) => periodStartBefore(calendar, day));
  if (since >= until) throw new UserError(`--since must be before ${input.until === undefined ? "now" : "--until"}`);
  return { since, until };
}

/** Calendar days the period covers (KEEPWARM_TZ), counting partial first and last days whole; at least 1. */
export const periodDays = (period: Pick<StatsPeriod, "since" | "until" | "calendar">): number =>
  Math.max(1, period.calendar.dayNumber(period.until) - period.calendar.dayNumber(period.since + 1) + 1);

/** The store's view of a period: the window and the segment (null for "all segments"). */
export function statsWindow(period: StatsPeriod): StatsWindow {
  return { since: period.since, until: period.until, segment: period.segment ?? null };
}

export const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const daysOf = (ms: number): number => ms / DAY_MS;

/** Compare strings by code point: the same order on every engine and locale (database collations differ). */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
