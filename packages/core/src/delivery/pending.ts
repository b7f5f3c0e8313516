import { isSlackUserId } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";

/** A nudge with everything its message shows, in Slack or on the console. */
export interface NudgeView {
  nudgeId: number;
  ruleId: string;
  status: string;
  priority: number;
  explanation: string;
  message: string;
  action: string | null;
  facts: string;
  destination: string;
  closeReason: string | null;
  closedBy: string | null;
  closeNote: string | null;
  snoozedUntil: number | null;
  snoozedBy: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  createdAt: number;
  customerId: number;
  customerExternalId: string;
  customerName: string;
  segment: string | null;
  tier: string | null;
  ownerSlackId: string | null;
  touchKind: string | null;
}

/** The columns of a NudgeView, over `nudges n JOIN customers c`. */
export const NUDGE_VIEW_COLUMNS = `n.id AS nudgeId, n.rule_id AS ruleId, n.status, n.priority, n.explanation, n.message, n.action, n.facts, n.destination,
   n.close_reason AS closeReason, n.closed_by AS closedBy, n.close_note AS closeNote, n.snoozed_until AS snoozedUntil, n.snoozed_by AS snoozedBy,
   n.slack_channel AS slackChannel, n.slack_ts AS slackTs, n.created_at AS createdAt,
   c.id AS customerId, c.external_id AS customerExternalId, c.name AS customerName, c.segment, c.tier, c.owner_slack_id AS ownerSlackId,
   (SELECT kind FROM touchpoints WHERE id = n.resolved_touch_id) AS touchKind`;

/** A pending outbox item with the nudge it is about. */
export interface PendingDelivery extends NudgeView {
  outboxId: number;
  kind: "deliver" | "update" | "escalate";
  attempts: number;
}

export function pendingDeliveries(store: Store, now: number, limit = 10_000): PendingDelivery[] {
  return store.sqlite
    .prepare(
      `SELECT o.id AS outboxId, o.kind, o.attempts, ${NUDGE_VIEW_COLUMNS}
       FROM outbox o JOIN nudges n ON n.id = o.nudge_id JOIN customers c ON c.id = n.customer_id
       WHERE o.status = 'pending' AND o.next_attempt_at <= ?
       ORDER BY o.id LIMIT ?`,
    )
    .all(now, limit) as PendingDelivery[];
}

export function markOutboxDone(store: Store, outboxId: number, now: number, status: "done" | "skipped" = "done", note: string | null = null): void {
  store.sqlite.prepare("UPDATE outbox SET status = ?, done_at = ?, last_error = ? WHERE id = ?").run(status, now, note, outboxId);
}

/**
 * Text of a nudge's closed/snoozed state, shared by the console and Slack message updates.
 * `mention` renders a valid Slack user id; `text` renders everything else that came from
 * data or people (a "logged by" name from a CSV, a dismiss reason): Slack passes its
 * escaping function, the console none.
 */
export function stateLine(
  item: Pick<PendingDelivery, "status" | "closeReason" | "closedBy" | "closeNote" | "snoozedUntil" | "snoozedBy" | "touchKind">,
  mention: (user: string) => string,
  text: (value: string) => string = (value) => value,
): string {
  const who = (user: string | null) => (user === null ? "" : ` by ${isSlackUserId(user) ? mention(user) : text(user)}`);
  switch (item.status) {
    case "resolved":
      return `✅ ${text(item.touchKind ?? "touch")} logged${who(item.closedBy)}`;
    case "dismissed":
      return `🚫 Dismissed${who(item.closedBy)}${item.closeNote ? `: ${text(item.closeNote)}` : ""}`;
    case "snoozed":
      return `😴 Snoozed${who(item.snoozedBy)} until ${item.snoozedUntil === null ? "later" : new Date(item.snoozedUntil).toISOString().slice(0, 10)}`;
    case "expired":
      return item.closeReason === "rule-removed" ? "⌛ Expired: the rule was removed" : "⌛ Expired: the conditions no longer hold";
    default:
      return "🔔 Open";
  }
}
