import { funnelCounts, type RuleFunnelCounts, type Store, touchResolvedNudges } from "@keepwarm/store";
import { byCodePoint, daysOf, median, round1, type StatsPeriod, statsWindow } from "./period";

/** The store's counts per rule, and how fast a touch answered the nudges. */
export interface RuleFunnel extends RuleFunnelCounts {
  /** Median days from the nudge's creation to the touch that resolved it, one decimal. */
  medianDaysToTouch: number | null;
}

/** The nudge funnel per rule, for nudges created in (since, until], in their state now. */
export async function funnelStats(store: Store, period: StatsPeriod): Promise<RuleFunnel[]> {
  const window = statsWindow(period);
  const counts = await funnelCounts(store.db, window);
  const resolved = await touchResolvedNudges(store.db, window);
  return counts
    .sort((a, b) => byCodePoint(a.ruleId, b.ruleId))
    .map((r) => {
      // A touch logged with an earlier date than the nudge counts as 0 days, not negative.
      const days = resolved.filter((d) => d.ruleId === r.ruleId).map((d) => daysOf(Math.max(0, d.touchAt - d.createdAt)));
      const m = median(days);
      return { ...r, medianDaysToTouch: m === null ? null : round1(m) };
    });
}
