import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * Delivery records its intent before each Slack write, so an unknown outcome (a crash,
 * a timeout, a 5xx) is resolved later with one bounded look-up instead of paging a
 * conversation's history: `intent_channel` (a channel id) and `intent_at` (when the
 * call was sent) stay set from just before the call until Slack's answer is recorded.
 * `slack_channels` keeps channel names (`#cs-fallback`) resolved to ids once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const instant = isPostgres(db) ? "BIGINT" : "INTEGER";
  await sql.raw("ALTER TABLE outbox ADD COLUMN intent_channel TEXT").execute(db);
  await sql.raw(`ALTER TABLE outbox ADD COLUMN intent_at ${instant}`).execute(db);
  await sql.raw(`CREATE TABLE slack_channels (name TEXT PRIMARY KEY, channel_id TEXT NOT NULL, resolved_at ${instant} NOT NULL)`).execute(db);
  // `keepwarm outbox list --status failed` reads failed items newest first.
  await sql.raw("CREATE INDEX outbox_status_id ON outbox (status, id)").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS outbox_status_id").execute(db);
  await sql.raw("DROP TABLE IF EXISTS slack_channels").execute(db);
  await sql.raw("ALTER TABLE outbox DROP COLUMN intent_at").execute(db);
  await sql.raw("ALTER TABLE outbox DROP COLUMN intent_channel").execute(db);
}
