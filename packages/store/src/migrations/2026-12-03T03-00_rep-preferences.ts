import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * Per-rep delivery preferences (issue 16): per rule DM, digest or off, quiet hours and
 * days in the rep's time zone (cached from Slack's users.info), a personal daily cap.
 * One row per rep, keyed by Slack id; a rep without a row gets the team's defaults.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const instant = isPostgres(db) ? "BIGINT" : "INTEGER";
  await sql
    .raw(`CREATE TABLE rep_preferences (
      slack_id TEXT PRIMARY KEY,
      rule_modes TEXT NOT NULL DEFAULT '{}',
      quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 23),
      quiet_end INTEGER CHECK (quiet_end BETWEEN 0 AND 23),
      quiet_days TEXT NOT NULL DEFAULT '',
      daily_cap INTEGER CHECK (daily_cap >= 0),
      digest_hour INTEGER NOT NULL DEFAULT 9 CHECK (digest_hour BETWEEN 0 AND 23),
      time_zone TEXT,
      time_zone_at ${instant},
      updated_at ${instant} NOT NULL,
      updated_by TEXT
    )`)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP TABLE IF EXISTS rep_preferences").execute(db);
}
