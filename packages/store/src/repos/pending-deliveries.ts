import { type Db, writeTransaction } from "../engine/transaction";
import type { OutboxTable } from "../tables/outbox.table";
import { type NudgeView, selectNudgeViews } from "./nudge-views";
import type { OutboxKind } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

/** A pending outbox item with the nudge it is about. */
export interface PendingDelivery extends NudgeView {
  outboxId: number;
  kind: OutboxKind;
  attempts: number;
  /** A Slack write sent and not settled yet: its channel id and when it was sent (repos/delivery.ts). */
  intentChannel: string | null;
  intentAt: number | null;
  /** When the item was queued (a daily digest takes what was queued before its hour). */
  queuedAt: number;
}

/** Outbox items joined to their nudges, selected as PendingDelivery rows (read them through `toPendingDelivery`). */
export function selectPendingDeliveries(db: Db) {
  return selectNudgeViews(db)
    .innerJoin("outbox as o", "o.nudge_id", "n.id")
    .select([
      "o.id as outboxId",
      "o.kind as kind",
      "o.attempts as attempts",
      "o.intent_channel as intentChannel",
      "o.intent_at as intentAt",
      "o.created_at as queuedAt",
    ]);
}

type PendingDeliveryRow = Awaited<ReturnType<ReturnType<typeof selectPendingDeliveries>["execute"]>>[number];

/** PostgreSQL returns BIGINT columns as strings; the rest of the code reads numbers. */
export function toPendingDelivery(row: PendingDeliveryRow): PendingDelivery {
  return { ...row, kind: row.kind as OutboxKind, intentAt: row.intentAt === null ? null : Number(row.intentAt), queuedAt: Number(row.queuedAt) };
}

/** Outbox items due at `now`, oldest first, with their nudges. */
export async function pendingDeliveries(db: Db, now: number, limit = 10_000): Promise<PendingDelivery[]> {
  const rows = await selectPendingDeliveries(db).where("o.status", "=", "pending").where("o.next_attempt_at", "<=", now).orderBy("o.id").limit(limit).execute();
  return rows.map(toPendingDelivery);
}

/** Close an outbox item: done, or skipped with the reason in last_error. */
export async function markOutboxDone(
  db: Db,
  outboxId: number,
  now: number,
  status: Extract<OutboxTable["status"], "done" | "skipped"> = "done",
  note: string | null = null,
): Promise<void> {
  await db.updateTable("outbox").set({ status, done_at: now, last_error: note }).where("id", "=", outboxId).execute();
}

/** A nudge printed by console delivery: delivered (once, emitting nudge.delivered) and its outbox item done, together. */
export async function markDeliveredOnConsole(db: Db, delivery: { nudgeId: number; outboxId: number; now: number }): Promise<void> {
  await writeTransaction(db, async (trx) => {
    const printed = await trx
      .updateTable("nudges")
      .set({ delivered_at: delivery.now, slack_channel: "console" })
      .where("id", "=", delivery.nudgeId)
      .where("delivered_at", "is", null)
      .executeTakeFirst();
    await markOutboxDone(trx, delivery.outboxId, delivery.now);
    if (Number(printed.numUpdatedRows) > 0) await emitNudgeEvents(trx, "nudge.delivered", [delivery.nudgeId], delivery.now);
  });
}

/**
 * Nudges DMed to each owner since `since` (the start of today in KEEPWARM_TZ). The
 * owner is read at count time, like routing, so counts follow the DM they landed in.
 */
export async function deliveredSinceByOwner(db: Db, since: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select((eb) => ["c.owner_slack_id as owner", eb.fn.countAll<number>().as("n")])
    .where("n.delivered_at", ">=", since)
    .where("n.destination", "=", "owner")
    .where("c.owner_slack_id", "is not", null)
    .groupBy("c.owner_slack_id")
    .execute();
  return new Map(rows.map((row) => [row.owner as string, Number(row.n)]));
}
