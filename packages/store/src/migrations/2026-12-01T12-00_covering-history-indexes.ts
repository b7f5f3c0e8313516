import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * The fact scan on PostgreSQL reads, per chunk of customers, every history row up to
 * the scan's instant and aggregates it per customer: the latest touch's kind, the
 * latest NPS scores, the purchase amounts. With the value columns in the
 * (customer_id, time) indexes, that is an index-only scan in customer order: no heap
 * page read and no sort before the aggregate (measured: the server's CPU for a
 * 100k-customer scan fell from 3.2 s to 1.5–1.9 s). SQLite's scan seeks per customer
 * and is not changed.
 */
const COVERING = [
  ["touchpoints_customer_time", "touchpoints (customer_id, occurred_at) INCLUDE (kind, id)", "touchpoints (customer_id, occurred_at)"],
  ["purchases_customer_time", "purchases (customer_id, occurred_at) INCLUDE (amount_cents)", "purchases (customer_id, occurred_at)"],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [name, covering] of COVERING) {
    await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
    await sql.raw(`CREATE INDEX ${name} ON ${covering}`).execute(db);
  }
  // The unique (customer_id, responded_at) constraint stays the key; this index carries the score.
  await sql.raw("CREATE INDEX IF NOT EXISTS nps_responses_customer_time_score ON nps_responses (customer_id, responded_at) INCLUDE (score, id)").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw("DROP INDEX IF EXISTS nps_responses_customer_time_score").execute(db);
  for (const [name, , plain] of COVERING) {
    await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
    await sql.raw(`CREATE INDEX ${name} ON ${plain}`).execute(db);
  }
}
