import { type Db, writeTransaction } from "../engine/transaction";
import type { OutboxTable } from "../tables/outbox.table";

export type OutboxStatus = OutboxTable["status"];
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ["pending", "held", "done", "failed", "skipped"];

/** One outbox item as `keepwarm outbox list` shows it. */
export interface OutboxListing {
  id: number;
  kind: string;
  status: OutboxStatus;
  attempts: number;
  nudgeId: number;
  customer: string;
  ruleId: string;
  createdAt: number;
  doneAt: number | null;
  nextAttemptAt: number;
  lastError: string | null;
}

/** Outbox items, newest first, optionally of one status (the `outbox_status_id` index serves it). */
export async function listOutbox(db: Db, options: { status?: OutboxStatus; limit: number }): Promise<OutboxListing[]> {
  const rows = await db
    .selectFrom("outbox as o")
    .innerJoin("nudges as n", "n.id", "o.nudge_id")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select([
      "o.id as id",
      "o.kind as kind",
      "o.status as status",
      "o.attempts as attempts",
      "o.nudge_id as nudgeId",
      "c.name as customer",
      "n.rule_id as ruleId",
      "o.created_at as createdAt",
      "o.done_at as doneAt",
      "o.next_attempt_at as nextAttemptAt",
      "o.last_error as lastError",
    ])
    .$if(options.status !== undefined, (qb) => qb.where("o.status", "=", options.status as OutboxStatus))
    .orderBy("o.id", "desc")
    .limit(options.limit)
    .execute();
  return rows.map((row) => ({
    ...row,
    id: Number(row.id),
    nudgeId: Number(row.nudgeId),
    createdAt: Number(row.createdAt),
    doneAt: row.doneAt === null ? null : Number(row.doneAt),
    nextAttemptAt: Number(row.nextAttemptAt),
  }));
}

export type RetryOutcome = { retried: number[]; notFound: number[]; notFailed: Array<{ id: number; status: OutboxStatus }> };

/**
 * Put failed items back in the queue (after the token or the channel was fixed): due
 * now, attempts and error cleared. Only `failed` items move; the answer says which ids
 * were not there or not failed, so nothing else is touched by a mistyped id.
 */
export async function retryFailedOutbox(
  db: Db,
  target: { ids: readonly number[] } | { allFailed: true },
  now: number,
  /** Only items of this kind (`keepwarm webhooks retry`: "webhook"); others count as not found. */
  kind?: string,
): Promise<RetryOutcome> {
  return writeTransaction(db, async (trx) => {
    const outcome: RetryOutcome = { retried: [], notFound: [], notFailed: [] };
    let ids: number[];
    if ("ids" in target) {
      const found =
        target.ids.length === 0
          ? []
          : await trx
              .selectFrom("outbox")
              .select(["id", "status"])
              .where("id", "in", target.ids)
              .$if(kind !== undefined, (qb) => qb.where("kind", "=", kind as string))
              .execute();
      const byId = new Map(found.map((row) => [Number(row.id), row.status]));
      ids = [];
      for (const id of target.ids) {
        const status = byId.get(id);
        if (status === undefined) outcome.notFound.push(id);
        else if (status !== "failed") outcome.notFailed.push({ id, status });
        else ids.push(id);
      }
      if (outcome.notFound.length > 0 || outcome.notFailed.length > 0) return outcome;
    } else {
      ids = (
        await trx
          .selectFrom("outbox")
          .select("id")
          .where("status", "=", "failed")
          .$if(kind !== undefined, (qb) => qb.where("kind", "=", kind as string))
          .execute()
      ).map((row) => Number(row.id));
    }
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      const rows = await trx
        .updateTable("outbox")
        .set({
          status: "pending",
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          done_at: null,
          claimed_by: null,
          claimed_until: null,
          intent_channel: null,
          intent_at: null,
        })
        .where("id", "in", part)
        .where("status", "=", "failed")
        .returning("id")
        .execute();
      for (const row of rows) outcome.retried.push(Number(row.id));
    }
    return outcome;
  });
}
