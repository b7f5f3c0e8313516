import { retentionCounts, type Store } from "@keepwarm/store";
import { byCodePoint, ratio, type StatsPeriod, statsWindow } from "./period";

export interface RetentionRow {
  segment: string;
  /** Customers at the period start: started on or before it and not churned by it. */
  atStart: number;
  /** Of those, churned during the period (churned_at in (since, until]). */
  churned: number;
  /** Customers who started during the period (not part of the rate). */
  new: number;
  /** (atStart − churned) / atStart; null when nobody was a customer at the start. */
  retentionRate: number | null;
  churnRate: number | null;
}

export interface RetentionStats {
  total: RetentionRow;
  bySegment: RetentionRow[];
}

const NO_SEGMENT = "(none)";

/**
 * Retention over (since, until]: the customers at the start and how many of them churned.
 * New customers are counted separately and never dilute the rate, which is the
 * usual ((end − new) / start) customer retention rate.
 */
export async function retentionStats(store: Store, period: StatsPeriod): Promise<RetentionStats> {
  const rows = (await retentionCounts(store.db, statsWindow(period)))
    .map((r) => ({ ...r, segment: r.segment ?? NO_SEGMENT }))
    .sort((a, b) => byCodePoint(a.segment, b.segment));
  const row = (segment: string, atStart: number, churned: number, added: number): RetentionRow => ({
    segment,
    atStart,
    churned,
    new: added,
    retentionRate: ratio(atStart - churned, atStart),
    churnRate: ratio(churned, atStart),
  });
  const bySegment = rows.map((r) => row(r.segment, r.atStart, r.churned, r.new));
  const sum = (key: "atStart" | "churned" | "new") => rows.reduce((acc, r) => acc + r[key], 0);
  return { total: row("all", sum("atStart"), sum("churned"), sum("new")), bySegment };
}
