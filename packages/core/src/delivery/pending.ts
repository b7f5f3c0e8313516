import { isSlackUserId } from "@keepwarm/rules";
import type { PendingDelivery, Store } from "@keepwarm/store";
import { deliveredSinceByOwner as deliveredSince, markOutboxDone as markDone, pendingDeliveries as pendingRows } from "@keepwarm/store";

// The NudgeView columns are defined once, in the store (repos/pending-deliveries.ts).
export type { NudgeView, PendingDelivery } from "@keepwarm/store";

/** Outbox items due at `now`, oldest first, with their nudges. */
export async function pendingDeliveries(store: Store, now: number, limit = 10_000): Promise<PendingDelivery[]> {
  return pendingRows(store.db, now, limit);
}

export async function markOutboxDone(
  store: Store,
  outboxId: number,
  now: number,
  status: "done" | "skipped" = "done",
  note: string | null = null,
): Promise<void> {
  await markDone(store.db, outboxId, now, status, note);
}

/**
 * Nudges DMed to each owner since `since` (the start of today in KEEPWARM_TZ). The
 * owner is read at count time, like routing, so counts follow the DM they landed in.
 */
export async function deliveredSinceByOwner(store: Store, since: number): Promise<Map<string, number>> {
  return deliveredSince(store.db, since);
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
      // "manual": resolved through the API, not by a touch.
      if (item.closeReason === "manual") return `✅ Resolved${who(item.closedBy)}${item.closeNote ? `: ${text(item.closeNote)}` : ""}`;
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
