import type { Generated, Insertable, Selectable } from "kysely";

/**
 * Work for the delivery side, written in the same transaction as the state change
 * that caused it, so nothing is lost between planning and Slack.
 * kind: "deliver" (post the nudge), "update" (rewrite its message after a state change),
 * "escalate" (tell the manager / escalation channel), "webhook" (send one event to one
 * webhook: no nudge, `webhook_id` and `webhook_event_id` instead).
 */
export interface OutboxTable {
  id: Generated<number>;
  kind: string;
  /** The nudge a Slack item is about; null for a webhook item. */
  nudge_id: number | null;
  /** "held": created by a sweep still running, released to "pending" when it ends. */
  status: "pending" | "held" | "done" | "failed" | "skipped";
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  done_at: number | null;
  /** The delivery process working on this item (see repos/delivery.ts); null when nobody is. */
  claimed_by: string | null;
  /** Until when that claim holds: after it, another process may take the item over. */
  claimed_until: number | null;
  /** The channel id of a Slack write whose outcome is not known yet (see repos/delivery.ts). */
  intent_channel: string | null;
  /** When that write was sent; null once Slack's answer (or a look-up) settled it. */
  intent_at: number | null;
  /** Webhook items: which webhook, which event (webhooks.table.ts). */
  webhook_id: number | null;
  webhook_event_id: number | null;
}
export type OutboxItem = Selectable<OutboxTable>;
export type NewOutboxItem = Insertable<OutboxTable>;
