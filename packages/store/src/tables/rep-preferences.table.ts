import type { Selectable } from "kysely";

/**
 * A rep's own delivery preferences, set from the App Home (or `keepwarm prefs set`).
 * No row: the team's defaults (every rule by DM, no quiet hours, the team's daily cap).
 */
export interface RepPreferencesTable {
  slack_id: string;
  /** JSON object rule id → "dm" | "digest" | "off"; a rule not listed is "dm". */
  rule_modes: string;
  /** Quiet hours, whole local hours 0–23; both null or both set (start ≠ end; start > end wraps past midnight). */
  quiet_start: number | null;
  quiet_end: number | null;
  /** Comma list of ISO weekdays (1 = Monday … 7 = Sunday) that are quiet all day; "" for none. */
  quiet_days: string;
  /** Nudges by DM per local day, at most the team's KEEPWARM_MAX_NUDGES_PER_DAY; null = the team's. */
  daily_cap: number | null;
  /** Local hour the daily digest is sent at. */
  digest_hour: number;
  /** IANA zone from Slack's users.info, cached; null until Slack answered (KEEPWARM_TZ meanwhile). */
  time_zone: string | null;
  time_zone_at: number | null;
  updated_at: number;
  updated_by: string | null;
}
export type RepPreferencesRow = Selectable<RepPreferencesTable>;
