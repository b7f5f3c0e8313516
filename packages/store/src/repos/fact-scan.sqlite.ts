import { type Store, StoreError, driverOf } from "../open-store";
import { DAY_MS } from "../time";
import { type FactRowChunks, toFactRow } from "./fact-scan";

/**
 * Every fact input of a chunk of customers in one statement: correlated subqueries
 * walk the (customer_id, time) indexes, so the cost is a handful of index seeks per
 * customer and never one query per customer. A customer exists from `since` (imports
 * are often later than the relationship began). The column order is toFactRow's.
 */
const FACT_SCAN_SQL = `
SELECT c.id AS id, c.external_id AS externalId, c.name AS name, c.segment AS segment,
  c.lifecycle_stage AS lifecycleStage, c.tier AS tier, c.owner_slack_id AS ownerSlackId,
  c.loyalty_member AS loyaltyMember, c.since_at AS sinceAt, c.renewal_at AS renewalAt,
  c.churned_at AS churnedAt, c.created_at AS createdAt, c.attributes AS attributes,
  (SELECT max(t.occurred_at) FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at <= @asOf) AS lastTouchAt,
  (SELECT t.kind FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at <= @asOf
     ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) AS lastTouchKind,
  (SELECT count(*) FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at > @since30 AND t.occurred_at <= @asOf) AS touchesLast30,
  (SELECT n.score FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= @asOf
     ORDER BY n.responded_at DESC LIMIT 1) AS npsLatest,
  (SELECT max(n.responded_at) FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= @asOf) AS npsLatestAt,
  (SELECT n.score FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= @asOf
     ORDER BY n.responded_at DESC LIMIT 1 OFFSET 1) AS npsPrevious,
  (SELECT count(*) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at > @since90 AND p.occurred_at <= @asOf) AS purchasesLast90,
  (SELECT coalesce(sum(p.amount_cents), 0) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at > @since90 AND p.occurred_at <= @asOf) AS spendLast90Cents,
  (SELECT max(p.occurred_at) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at <= @asOf) AS lastPurchaseAt
FROM customers c
WHERE (c.churned_at IS NULL OR c.churned_at > @asOf) AND min(c.created_at, coalesce(c.since_at, c.created_at)) <= @asOf
  AND c.id > @after
ORDER BY c.id LIMIT @limit`;

/** A rowid range per chunk, one prepared statement for the whole scan, rows as arrays (`.raw()`). */
export function factRowChunksSqlite(store: Store, asOf: number): FactRowChunks {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite") throw new StoreError("not a SQLite store");
  const statement = driver.sqlite.prepare(FACT_SCAN_SQL).raw();
  const window = { asOf, since30: asOf - 30 * DAY_MS, since90: asOf - 90 * DAY_MS };
  return async (after, limit) => (statement.all({ ...window, after, limit }) as unknown[][]).map(toFactRow);
}
