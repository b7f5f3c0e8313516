import type { Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";
import { ACTIVE_AT, ratio, SEGMENT_FILTER, type StatsPeriod } from "./period";

export const FREQUENT_PURCHASES = 5;
export const FREQUENT_WINDOW_DAYS = 90;

export interface LoyaltyStats {
  /** Active customers with ≥ 5 purchases in the 90 days up to `until`. */
  frequentBuyers: number;
  /** Of those, loyalty members now (membership has no history in the store). */
  enrolled: number;
  enrollmentRate: number | null;
}

export function loyaltyStats(store: Store, period: StatsPeriod): LoyaltyStats {
  const row = store.sqlite
    .prepare(
      `SELECT count(*) AS frequentBuyers, coalesce(sum(c.loyalty_member), 0) AS enrolled
       FROM customers c JOIN (SELECT customer_id, count(*) AS n FROM purchases WHERE occurred_at > @from AND occurred_at <= @until GROUP BY customer_id) p
         ON p.customer_id = c.id
       WHERE p.n >= ${FREQUENT_PURCHASES} AND ${SEGMENT_FILTER} AND ${ACTIVE_AT("@until")}`,
    )
    .get({ from: period.until - FREQUENT_WINDOW_DAYS * DAY_MS, until: period.until, segment: period.segment ?? null }) as {
    frequentBuyers: number;
    enrolled: number;
  };
  return { ...row, enrollmentRate: ratio(row.enrolled, row.frequentBuyers) };
}
