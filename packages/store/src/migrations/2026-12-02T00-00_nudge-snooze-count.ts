import { type Kysely, sql } from "kysely";

/**
 * How many times a nudge was snoozed: the noise report counts nudges snoozed more than
 * once (put off again and again, never acted on). Until now only the last snooze was
 * kept (`snoozed_by`), so a nudge snoozed before this migration counts as snoozed once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges ADD COLUMN snooze_count INTEGER NOT NULL DEFAULT 0").execute(db);
  await sql.raw("UPDATE nudges SET snooze_count = 1 WHERE snoozed_by IS NOT NULL").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges DROP COLUMN snooze_count").execute(db);
}
