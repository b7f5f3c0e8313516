import { DAY_MS, funnelCounts, type NoiseWindows, type RuleFunnelCounts, type Store, touchResolvedNudges } from "@keepwarm/store";
import { OUTCOME_WINDOW_DAYS } from "../backtest";
import { byCodePoint, daysOf, median, round1, type StatsPeriod, statsWindow } from "./period";

/** The store's counts per rule, and how fast a touch answered the nudges. */
export interface RuleFunnel extends RuleFunnelCounts {
  /** Median days from the nudge's creation to the touch that resolved it, one decimal. */
  medianDaysToTouch: number | null;
}

/**
 * The windows of the noise measures. A touch more than 7 days after the nudge is "the
 * next routine touch", not an answer to it: 7 days is the window in which holdouts and
 * backtests count a nudge as acted on. A customer touched in the 7 days before the nudge
 * was "already being touched": the nudge told the rep nothing new.
 */
export const ROUTINE_AFTER_DAYS = OUTCOME_WINDOW_DAYS;
export const ALREADY_TOUCHED_DAYS = 7;
const NOISE_WINDOWS: NoiseWindows = { routineAfterMs: ROUTINE_AFTER_DAYS * DAY_MS, alreadyTouchedMs: ALREADY_TOUCHED_DAYS * DAY_MS };

/** The nudge funnel per rule, for nudges created in (since, until], in their state now. */
export async function funnelStats(store: Store, period: StatsPeriod): Promise<RuleFunnel[]> {
  const window = statsWindow(period);
  const counts = await funnelCounts(store.db, { ...window, ...NOISE_WINDOWS });
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
