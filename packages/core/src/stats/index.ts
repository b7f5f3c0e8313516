import type { Store } from "@keepwarm/store";
import { type RuleFunnel, funnelStats } from "./funnel";
import { type HoldoutComparison, holdoutComparison, type VariantComparison, variantComparison } from "./holdout-compare";
import { type LoyaltyStats, loyaltyStats } from "./loyalty";
import { type NoiseReport, noiseStats } from "./noise";
import { type NpsStats, npsStats } from "./nps";
import { periodDays, type StatsPeriod } from "./period";
import { type RepActivityStats, repActivityStats } from "./rep-activity";
import { type RetentionStats, retentionStats } from "./retention";
import { type TouchCadenceStats, touchCadenceStats } from "./touch-cadence";

export * from "./funnel";
export * from "./holdout-compare";
export * from "./loyalty";
export * from "./noise";
export * from "./nps";
export * from "./period";
export * from "./rep-activity";
export * from "./retention";
export * from "./significance";
export * from "./touch-cadence";

export interface Stats {
  since: number;
  until: number;
  /** The period's first and last calendar day (KEEPWARM_TZ, YYYY-MM-DD), both included, and how many days it covers. */
  from: string;
  to: string;
  days: number;
  segment: string | null;
  retention: RetentionStats;
  nps: NpsStats;
  touchCadence: TouchCadenceStats;
  repActivity: RepActivityStats;
  loyalty: LoyaltyStats;
  funnel: RuleFunnel[];
  holdouts: HoldoutComparison[];
  /** Per rule with an A/B test of its message: version a vs b, touched within 7 days. */
  variants: VariantComparison[];
  /** Per rule: how much of what it sends is noise, and whether it is flagged. */
  noise: NoiseReport;
}

/** Every KPI for one period: a handful of bulk statements, never one query per customer. */
export async function computeStats(store: Store, period: StatsPeriod): Promise<Stats> {
  const funnel = await funnelStats(store, period);
  const holdouts = await holdoutComparison(store, period);
  return {
    since: period.since,
    until: period.until,
    from: period.calendar.isoDate(period.since + 1),
    to: period.calendar.isoDate(period.until),
    days: periodDays(period),
    segment: period.segment ?? null,
    retention: await retentionStats(store, period),
    nps: await npsStats(store, period),
    touchCadence: await touchCadenceStats(store, period),
    repActivity: await repActivityStats(store, period),
    loyalty: await loyaltyStats(store, period),
    funnel,
    holdouts,
    variants: await variantComparison(store, period),
    noise: await noiseStats(store, period, { funnel, holdouts }),
  };
}
