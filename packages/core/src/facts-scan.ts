import type { CustomerFactRow } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";

/**
 * Every fact input for every (non-churned) customer at `asOf`, in one SQL statement:
 * correlated subqueries walk the (customer_id, time) indexes, so the cost is a
 * handful of index seeks per customer and never one query per customer.
 * Only history up to `asOf` counts, which is what lets backtests replay past days; a
 * customer exists from `since` (imports are often later than the relationship began).
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
ORDER BY c.id`;

/**
 * Rows come back as arrays (`.raw()`) and become objects here: better-sqlite3 builds a
 * row object property by property, which cost as much as the SQL itself at 100k rows;
 * a literal gets one fixed shape, which also keeps the rule predicates monomorphic.
 * The column order is FACT_SCAN_SQL's.
 */
function toFactRow(r: unknown[]): CustomerFactRow {
  return {
    id: r[0] as number,
    externalId: r[1] as string,
    name: r[2] as string,
    segment: r[3] as string | null,
    lifecycleStage: r[4] as string | null,
    tier: r[5] as string | null,
    ownerSlackId: r[6] as string | null,
    loyaltyMember: r[7] as number,
    sinceAt: r[8] as number | null,
    renewalAt: r[9] as number | null,
    churnedAt: r[10] as number | null,
    createdAt: r[11] as number,
    attributes: r[12] as string,
    lastTouchAt: r[13] as number | null,
    lastTouchKind: r[14] as string | null,
    touchesLast30: r[15] as number,
    npsLatest: r[16] as number | null,
    npsLatestAt: r[17] as number | null,
    npsPrevious: r[18] as number | null,
    purchasesLast90: r[19] as number,
    spendLast90Cents: r[20] as number,
    lastPurchaseAt: r[21] as number | null,
  };
}

export function* scanFactRows(store: Store, asOf: number): Generator<CustomerFactRow> {
  const statement = store.sqlite.prepare(FACT_SCAN_SQL).raw();
  for (const r of statement.iterate({ asOf, since30: asOf - 30 * DAY_MS, since90: asOf - 90 * DAY_MS }) as IterableIterator<unknown[]>) yield toFactRow(r);
}

/**
 * The scan a chunk at a time: `next(after, limit)` returns up to `limit` rows of the
 * customers with ids above `after`, in id order (a rowid range, so each chunk costs
 * only its own rows). Lets a sweep write between chunks, which an open iterator forbids.
 */
export function factRowChunks(store: Store, asOf: number): (after: number, limit: number) => CustomerFactRow[] {
  const statement = store.sqlite.prepare(FACT_SCAN_SQL.replace("ORDER BY c.id", "AND c.id > @after ORDER BY c.id LIMIT @limit")).raw();
  const window = { asOf, since30: asOf - 30 * DAY_MS, since90: asOf - 90 * DAY_MS };
  return (after, limit) => (statement.all({ ...window, after, limit }) as unknown[][]).map(toFactRow);
}
