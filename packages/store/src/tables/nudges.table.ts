import type { Generated, Insertable, Selectable, Updateable } from "kysely";

/** open and snoozed are "live": at most one live nudge per (rule, customer), enforced by a partial unique index. */
export const NUDGE_STATUSES = ["open", "snoozed", "resolved", "dismissed", "expired"] as const;
export type NudgeStatus = (typeof NUDGE_STATUSES)[number];
export const LIVE_STATUSES: readonly NudgeStatus[] = ["open", "snoozed"];

export interface NudgesTable {
  id: Generated<number>;
  rule_id: string;
  rule_set_version: number;
  customer_id: number;
  status: NudgeStatus;
  priority: number;
  explanation: string;
  /** Rendered message text of the rule's template. */
  message: string;
  /** The rule's suggested next step. */
  action: string | null;
  /** JSON of the facts the matched conditions read. */
  facts: string;
  /** 1 when the customer falls in the rule's holdout group: recorded, never delivered. */
  held_out: number;
  resolve_on_touch: number;
  cooldown_days: number;
  /** "dm" (the owner), or a channel id/name, decided at planning time. */
  destination: string;
  sweep_run_id: number | null;
  /** When the customer's quiet period counted from at planning (last touch, else `since`): only a newer touch resolves the nudge. */
  last_touch_at: number | null;
  created_at: number;
  updated_at: number;
  snoozed_until: number | null;
  snoozed_by: string | null;
  /** Times the nudge was snoozed (the noise report counts nudges snoozed more than once). */
  snooze_count: Generated<number>;
  closed_at: number | null;
  closed_by: string | null;
  /** touch | dismissed | expired | rule-removed | churned */
  close_reason: string | null;
  close_note: string | null;
  resolved_touch_id: number | null;
  cooldown_until: number | null;
  delivered_at: number | null;
  slack_channel: string | null;
  slack_ts: string | null;
  escalated_at: number | null;
  /** The rule's message version this nudge carried, "a" or "b", when the rule runs an A/B test; else null. */
  variant: Generated<"a" | "b" | null>;
  /** Who took the unowned customer with "I'll take it" on this nudge, and when. */
  claimed_by: Generated<string | null>;
  claimed_at: Generated<number | null>;
}
export type Nudge = Selectable<NudgesTable>;
export type NewNudge = Insertable<NudgesTable>;
export type NudgeUpdate = Updateable<NudgesTable>;
