import { retentionCounts, type Store } from "@keepwarm/store";
import { byCodePoint, ratio, type StatsPeriod, statsWindow } from "./period";

export interface RetentionRow {
  segment: string;
  /** S: customers at the period start (started on or before it, not churned by it). */
  atStart: number;
  /** E: customers at the period end. */
  atEnd: number;
  /** N: customers who started during the period. */
  new: number;
  /** Customers lost during the period: churned_at in (since, until], whether there at the start or new. */
  churned: number;
  /** (E − N) ÷ S; null when nobody was a customer at the start. */
  retentionRate: number | null;
  /** Customers lost ÷ S = 1 − retentionRate. */
  churnRate: number | null;
}

export interface RetentionStats {
  total: RetentionRow;
  bySegment: RetentionRow[];
}

const NO_SEGMENT = "(none)";

/**
 * The textbook customer retention rate over (since, until]: (E − N) ÷ S, customers at
 * the end less the new ones, over customers at the start. A new customer who churns
 * within the period lowers it, as it should: E − N = S − every customer lost.
 */
export async function retentionStats(store: Store, period: StatsPeriod): Promise<RetentionStats> {
  const rows = (await retentionCounts(store.db, statsWindow(period)))
    .map((r) => ({ ...r, segment: r.segment ?? NO_SEGMENT }))
    .sort((a, b) => byCodePoint(a.segment, b.segment));
  const row = (segment: string, counts: { atStart: number; atEnd: number; new: number; churned: number }): RetentionRow => ({
    segment,
    ...counts,
    retentionRate: ratio(counts.atEnd - counts.new, counts.atStart),
    churnRate: ratio(counts.churned, counts.atStart),
  });
  const bySegment = rows.map((r) => row(r.segment, { atStart: r.atStart, atEnd: r.atEnd, new: r.new, churned: r.churned }));
  const sum = (key: "atStart" | "atEnd" | "churned" | "new") => rows.reduce((acc, r) => acc + Number(r[key]), 0);
  return { total: row("all", { atStart: sum("atStart"), atEnd: sum("atEnd"), new: sum("new"), churned: sum("churned") }), bySegment };
}
