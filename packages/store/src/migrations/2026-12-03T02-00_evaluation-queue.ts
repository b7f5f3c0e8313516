import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * Customers whose facts changed since they were last evaluated (a touch, an NPS
 * response, a purchase): the long-running processes drain it and re-evaluate just
 * them. One row per customer, upserted by the write that changed the facts, in its
 * transaction. `seq` grows with each such write, so a drainer deletes a row only if no
 * write came after it read the customer's facts. `claimed_until` hands each customer
 * to one drainer at a time; a killed drainer's claim runs out.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  const big = pg ? "BIGINT" : "INTEGER";
  await sql
    .raw(`CREATE TABLE evaluation_queue (
      customer_id ${big} PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
      seq ${big} NOT NULL,
      queued_at ${big} NOT NULL,
      claimed_by TEXT,
      claimed_until ${big}
    )`)
    .execute(db);
  await sql.raw("CREATE INDEX evaluation_queue_queued ON evaluation_queue (queued_at)").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP TABLE IF EXISTS evaluation_queue").execute(db);
}
