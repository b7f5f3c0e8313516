import type { Db } from "../engine/transaction";
import type { RepPreferencesRow } from "../tables/rep-preferences.table";

/** What a save writes: everything a rep chooses (the cached time zone has its own write). */
export type RepPreferencesWrite = Pick<
  RepPreferencesRow,
  "slack_id" | "rule_modes" | "quiet_start" | "quiet_end" | "quiet_days" | "daily_cap" | "digest_hour"
> & {
  updated_at: number;
  updated_by: string | null;
};

/** The stored preferences of these reps (all reps with a row when `slackIds` is undefined), by Slack id. */
export async function repPreferencesRows(db: Db, slackIds?: readonly string[]): Promise<RepPreferencesRow[]> {
  if (slackIds !== undefined && slackIds.length === 0) return [];
  const rows: RepPreferencesRow[] = [];
  const parts =
    slackIds === undefined ? [undefined] : Array.from({ length: Math.ceil(slackIds.length / 1000) }, (_, i) => slackIds.slice(i * 1000, i * 1000 + 1000));
  for (const part of parts) {
    rows.push(
      ...(await db
        .selectFrom("rep_preferences")
        .selectAll()
        .$if(part !== undefined, (qb) => qb.where("slack_id", "in", part ?? []))
        .orderBy("slack_id")
        .execute()),
    );
  }
  return rows;
}

/** Insert or replace a rep's choices; a cached time zone already stored stays. */
export async function saveRepPreferences(db: Db, write: RepPreferencesWrite): Promise<void> {
  await db
    .insertInto("rep_preferences")
    .values(write)
    .onConflict((oc) =>
      oc.column("slack_id").doUpdateSet({
        rule_modes: write.rule_modes,
        quiet_start: write.quiet_start,
        quiet_end: write.quiet_end,
        quiet_days: write.quiet_days,
        daily_cap: write.daily_cap,
        digest_hour: write.digest_hour,
        updated_at: write.updated_at,
        updated_by: write.updated_by,
      }),
    )
    .execute();
}

/**
 * Remember the time zone Slack gave for a rep (users.info `tz`). A rep without
 * preferences gets a row of defaults, which behaves exactly like no row.
 */
export async function cacheRepTimeZone(db: Db, slackId: string, timeZone: string, at: number): Promise<void> {
  await db
    .insertInto("rep_preferences")
    .values({ slack_id: slackId, rule_modes: "{}", quiet_days: "", digest_hour: 9, time_zone: timeZone, time_zone_at: at, updated_at: at, updated_by: null })
    .onConflict((oc) => oc.column("slack_id").doUpdateSet({ time_zone: timeZone, time_zone_at: at }))
    .execute();
}
