import type { Calendar } from "@keepwarm/rules";
import { DAY_MS } from "@keepwarm/store";

/** The window every KPI is computed over: (since, until], optionally one segment. */
export interface StatsPeriod {
  since: number;
  until: number;
  calendar: Calendar;
  /** Only customers of this segment; undefined = all. */
  segment?: string | undefined;
}

export const DEFAULT_STATS_DAYS = 90;

/** Named parameters shared by the KPI queries; `segment` binds NULL for "all segments". */
export function periodParams(period: StatsPeriod): { since: number; until: number; segment: string | null } {
  return { since: period.since, until: period.until, segment: period.segment ?? null };
}

/** SQL fragment: the customer (alias c) is in the requested segment. */
export const SEGMENT_FILTER = "(@segment IS NULL OR c.segment = @segment)";

/** SQL fragment: the customer (alias c) is a customer at @at (started, not churned). */
export const ACTIVE_AT = (at: string) => `coalesce(c.since_at, c.created_at) <= ${at} AND (c.churned_at IS NULL OR c.churned_at > ${at})`;

export const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const daysOf = (ms: number): number => ms / DAY_MS;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
