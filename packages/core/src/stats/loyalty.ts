import { frequentBuyerCounts, type Store } from "@keepwarm/store";
import { lastDays, ratio, type StatsPeriod } from "./period";

export const FREQUENT_PURCHASES = 5;
export const FREQUENT_WINDOW_DAYS = 90;

export interface LoyaltyStats {
  /** Active customers with ≥ 5 purchases in the 90 days up to `until`. */
  frequentBuyers: number;
  /** Of those, loyalty members now (membership has no history in the store). */
  enrolled: number;
  enrollmentRate: number | null;
}

export async function loyaltyStats(store: Store, period: StatsPeriod): Promise<LoyaltyStats> {
  const counts = await frequentBuyerCounts(store.db, {
    from: lastDays(FREQUENT_WINDOW_DAYS, period.until, period.calendar).since,
    until: period.until,
    minPurchases: FREQUENT_PURCHASES,
    segment: period.segment ?? null,
  });
  return { ...counts, enrollmentRate: ratio(counts.enrolled, counts.frequentBuyers) };
}
