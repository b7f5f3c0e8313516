import { type Store, StoreError, driverOf } from "../open-store";
import { DAY_MS } from "../time";
import { type FactRowChunks, toFactRow } from "./fact-scan";

/**
 * A chunk's fact inputs in one set-based statement: the chunk's customers by keyset
 * ($1 after, $2 limit), then one grouped pass over each history table restricted to
 * the chunk's id range, walking the (customer_id, time) indexes in order — a range
 * scan per table and chunk instead of a handful of index seeks per customer. The
 * latest touch kind and the two latest NPS scores come from ordered aggregates, ties
 * broken as on SQLite. The column order is toFactRow's.
 */
const FACT_SCAN_SQL = `
WITH c AS (
  SELECT id, external_id, name, segment, lifecycle_stage, tier, owner_slack_id, loyalty_member,
    since_at, renewal_at, churned_at, created_at, attributes
  FROM customers
  WHERE id > $1 AND (churned_at IS NULL OR churned_at > $3) AND least(created_at, coalesce(since_at, created_at)) <= $3
  ORDER BY id LIMIT $2
), range AS (SELECT max(id) AS last FROM c)
SELECT c.id, c.external_id, c.name, c.segment, c.lifecycle_stage, c.tier, c.owner_slack_id, c.loyalty_member,
  c.since_at, c.renewal_at, c.churned_at, c.created_at, c.attributes,
  t.last_at, t.last_kind, coalesce(t.recent, 0),
  n.latest, n.latest_at, n.previous,
  coalesce(p.recent, 0), coalesce(p.recent_cents, 0), p.last_at
FROM c
LEFT JOIN (
  SELECT customer_id, max(occurred_at) AS last_at,
    (array_agg(kind ORDER BY occurred_at DESC, id DESC))[1] AS last_kind,
    count(*) FILTER (WHERE occurred_at > $4) AS recent
  FROM touchpoints
  WHERE customer_id > $1 AND customer_id <= (SELECT last FROM range) AND occurred_at <= $3
  GROUP BY customer_id
) t ON t.customer_id = c.id
LEFT JOIN (
  SELECT customer_id, max(responded_at) AS latest_at,
    (array_agg(score ORDER BY responded_at DESC))[1] AS latest,
    (array_agg(score ORDER BY responded_at DESC))[2] AS previous
  FROM nps_responses
  WHERE customer_id > $1 AND customer_id <= (SELECT last FROM range) AND responded_at <= $3
  GROUP BY customer_id
) n ON n.customer_id = c.id
LEFT JOIN (
  SELECT customer_id, max(occurred_at) AS last_at,
    count(*) FILTER (WHERE occurred_at > $5) AS recent,
    sum(amount_cents) FILTER (WHERE occurred_at > $5) AS recent_cents
  FROM purchases
  WHERE customer_id > $1 AND customer_id <= (SELECT last FROM range) AND occurred_at <= $3
  GROUP BY customer_id
) p ON p.customer_id = c.id
ORDER BY c.id`;

/** One round trip per chunk on the pool, rows as arrays; memory is the chunk's. */
export function factRowChunksPostgres(store: Store, asOf: number): FactRowChunks {
  const driver = driverOf(store);
  if (driver.engine !== "postgres") throw new StoreError("not a PostgreSQL store");
  const { pool } = driver;
  return async (after, limit) => {
    const result = await pool.query<unknown[]>({
      name: "keepwarm_fact_scan",
      text: FACT_SCAN_SQL,
      values: [after, limit, asOf, asOf - 30 * DAY_MS, asOf - 90 * DAY_MS],
      rowMode: "array",
    });
    return result.rows.map(toFactRow);
  };
}
