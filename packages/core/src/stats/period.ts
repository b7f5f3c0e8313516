import type { Calendar } from "@keepwarm/rules";
import { DAY_MS, type StatsWindow } from "@keepwarm/store";

/** The window every KPI is computed over: (since, until], optionally one segment. */
export interface StatsPeriod {
  since: number;
  until: number;
  calendar: Calendar;
  /** Only customers of this segment; undefined = all. */
  segment?: string | undefined;
}

export const DEFAULT_STATS_DAYS = 90;

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
