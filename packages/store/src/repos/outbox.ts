import type { Db } from "../engine/transaction";
import type { OutboxTable } from "../tables/outbox.table";

/** What Slack delivery does with an item: post a nudge, rewrite its message, escalate it. */
export const SLACK_OUTBOX_KINDS = ["deliver", "update", "escalate"] as const;
/** Every kind of outbox item: Slack's, and "webhook" (one event to one webhook, sent by the webhook sender). */
export const OUTBOX_KINDS = [...SLACK_OUTBOX_KINDS, "webhook"] as const;
export type OutboxKind = (typeof SLACK_OUTBOX_KINDS)[number];

export type OutboxWrite =
  | {
      kind: OutboxKind;
      nudgeId: number;
      /** "held" while the sweep that planned it still runs; "pending" is due at `dueAt`. */
      status?: Extract<OutboxTable["status"], "pending" | "held">;
      dueAt?: number;
    }
  | { kind: "webhook"; webhookId: number; webhookEventId: number; dueAt?: number };

/** Rows per INSERT: under SQLite's and PostgreSQL's bound-parameter limits at 8 columns. */
const BATCH = 1000;

/**
 * The one outbox write. Call it with the transaction of the state change that causes
 * the work, so the change and its delivery commit together or not at all.
 */
export async function enqueueOutbox(trx: Db, items: readonly OutboxWrite[], now = Date.now()): Promise<void> {
  for (let start = 0; start < items.length; start += BATCH) {
    const rows = items.slice(start, start + BATCH).map((item) => ({
      kind: item.kind,
      nudge_id: item.kind === "webhook" ? null : item.nudgeId,
      webhook_id: item.kind === "webhook" ? item.webhookId : null,
      webhook_event_id: item.kind === "webhook" ? item.webhookEventId : null,
      status: item.kind === "webhook" ? "pending" : (item.status ?? "pending"),
      attempts: 0,
      next_attempt_at: item.dueAt ?? now,
      created_at: now,
    }));
    await trx.insertInto("outbox").values(rows).execute();
  }
}
