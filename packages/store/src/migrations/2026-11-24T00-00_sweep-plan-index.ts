import { type Kysely, sql } from "kysely";
import { LIVE_STATUSES } from "../tables/nudges.table";

/**
 * Every sweep reads all live nudges to plan against (planNudges). Without this index
 * that read walks the whole nudges table, explanation and facts JSON included; with
 * it, the read is a scan of a narrow partial index holding only live nudges.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `CREATE INDEX nudges_live_plan ON nudges (rule_id, customer_id, status, snoozed_until, delivered_at) WHERE status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(",")})`,
    )
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS nudges_live_plan").execute(db);
}
