import { sql } from "kysely";
import type { Db } from "../engine/transaction";

/**
 * The fact scan as first written on SQLite (ten correlated subqueries per customer),
 * kept as the sweep benchmark's reference to show what the tuned scan changed. Returns
 * the number of customer rows it produced.
 */
export async function scanAsFirstWritten(db: Db, asOf: number, since30: number, since90: number): Promise<number> {
  const { rows } = await sql`
SELECT c.id AS id, c.external_id AS externalId, c.name AS name, c.segment AS segment,
  c.lifecycle_stage AS lifecycleStage, c.tier AS tier, c.owner_slack_id AS ownerSlackId,
  c.loyalty_member AS loyaltyMember, c.since_at AS sinceAt, c.renewal_at AS renewalAt,
  c.churned_at AS churnedAt, c.created_at AS createdAt, c.attributes AS attributes,
  (SELECT max(t.occurred_at) FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at <= ${asOf}) AS lastTouchAt,
  (SELECT t.kind FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at <= ${asOf}
     ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) AS lastTouchKind,
  (SELECT count(*) FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at > ${since30} AND t.occurred_at <= ${asOf}) AS touchesLast30,
  (SELECT n.score FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= ${asOf}
     ORDER BY n.responded_at DESC LIMIT 1) AS npsLatest,
  (SELECT max(n.responded_at) FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= ${asOf}) AS npsLatestAt,
  (SELECT n.score FROM nps_responses n WHERE n.customer_id = c.id AND n.responded_at <= ${asOf}
     ORDER BY n.responded_at DESC LIMIT 1 OFFSET 1) AS npsPrevious,
  (SELECT count(*) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at > ${since90} AND p.occurred_at <= ${asOf}) AS purchasesLast90,
  (SELECT coalesce(sum(p.amount_cents), 0) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at > ${since90} AND p.occurred_at <= ${asOf}) AS spendLast90Cents,
  (SELECT max(p.occurred_at) FROM purchases p WHERE p.customer_id = c.id AND p.occurred_at <= ${asOf}) AS lastPurchaseAt
FROM customers c
WHERE (c.churned_at IS NULL OR c.churned_at > ${asOf}) AND c.created_at <= ${asOf}
ORDER BY c.id`.execute(db);
  return rows.length;
}
