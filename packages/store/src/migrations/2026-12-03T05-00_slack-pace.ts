import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * The workspace-wide pace of Slack writes, shared by every bot and CLI on the database:
 * one row per pace holding its theoretical arrival time (`tat`, the GCRA of a token
 * bucket), moved forward by one interval per message reserved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`CREATE TABLE slack_pace (name TEXT PRIMARY KEY, tat ${isPostgres(db) ? "BIGINT" : "INTEGER"} NOT NULL)`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP TABLE IF EXISTS slack_pace").execute(db);
}
