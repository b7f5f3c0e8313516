import type { Generated, Selectable } from "kysely";

/**
 * What a webhook may subscribe to: the one list (the CLI's check, the zod enum of the
 * API package and its OpenAPI `webhooks` section, docs/api.md all read it).
 * webhook.ping is not subscribable: `keepwarm webhooks test` sends it to one webhook.
 */
export const WEBHOOK_EVENT_TYPES = [
  "nudge.created",
  "nudge.delivered",
  "nudge.resolved",
  "nudge.snoozed",
  "nudge.dismissed",
  "nudge.expired",
  "nudge.escalated",
  "nudge.claimed",
  "touch.created",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type NudgeEventType = Extract<WebhookEventType, `nudge.${string}`>;
export const PING_EVENT_TYPE = "webhook.ping";

export interface WebhooksTable {
  id: Generated<number>;
  url: string;
  /** Comma list of WEBHOOK_EVENT_TYPES. */
  events: string;
  /** The signing secret, kept so deliveries can be signed (a hash could not sign). */
  secret: string;
  created_at: number;
  /** Removed: no new deliveries; the row stays for the delivery log. */
  removed_at: number | null;
}
export type Webhook = Selectable<WebhooksTable>;

export interface WebhookEventsTable {
  id: Generated<number>;
  /** The stable id receivers dedupe on (evt_…), the same in every attempt. */
  event_id: string;
  type: string;
  occurred_at: number;
  /** The exact JSON body every delivery of this event sends. */
  payload: string;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  outbox_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  /** The receiver's HTTP status; null when no answer came (refused, timed out). */
  http_status: number | null;
  /** Why the attempt failed, or null on a 2xx. */
  error: string | null;
}
