import { sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { type Db, writeTransaction } from "../engine/transaction";
import type { OutboxTable } from "../tables/outbox.table";

/** A webhook item claimed for sending: the event's exact body and where it goes. */
export interface WebhookDelivery {
  outboxId: number;
  /** Attempts made before this one. */
  attempts: number;
  webhookId: number;
  url: string;
  secret: string;
  eventId: string;
  type: string;
  payload: string;
}

const WEBHOOK = sql.lit("webhook");
const PENDING = sql.lit<"pending">("pending");
/** Ids per IN list. */
const BATCH = 1000;

function dueWebhookItems(db: Db, now: number) {
  return db
    .selectFrom("outbox")
    .where("kind", "=", WEBHOOK)
    .where("status", "=", PENDING)
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<=", now)]));
}

/**
 * Claim due webhook items for one sending pass, like Slack delivery claims its items:
 * marked `claimed_by`/`claimed_until` in one short write transaction (rows picked
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so two processes
 * never send one item at once. A claim that outlives a killed process expires after
 * `ttlMs` and the item is sent again (at-least-once). Literals, not parameters, for
 * kind and status, so both engines can use the partial index outbox_webhook_due.
 */
export async function claimDueWebhookDeliveries(db: Db, request: { claimant: string; now: number; ttlMs: number; limit: number }): Promise<WebhookDelivery[]> {
  const { claimant, now, limit } = request;
  // Most passes find nothing: a read, so an idle sender takes no write lock every second.
  const any = await dueWebhookItems(db, now).select("id").limit(1).executeTakeFirst();
  if (any === undefined) return [];
  const ids = await writeTransaction(db, async (trx) => {
    const due = dueWebhookItems(trx, now)
      .select("id")
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(limit)
      .$if(isPostgres(trx), (qb) => qb.forUpdate().skipLocked());
    const rows = await trx
      .updateTable("outbox")
      .set({ claimed_by: claimant, claimed_until: now + request.ttlMs })
      .where("id", "in", due)
      .returning("id")
      .execute();
    return rows.map((row) => Number(row.id));
  });
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("outbox as o")
    .innerJoin("webhooks as w", "w.id", "o.webhook_id")
    .innerJoin("webhook_events as e", "e.id", "o.webhook_event_id")
    .select(["o.id as outboxId", "o.attempts", "w.id as webhookId", "w.url", "w.secret", "e.event_id as eventId", "e.type", "e.payload"])
    .where("o.id", "in", ids)
    .orderBy("o.next_attempt_at")
    .orderBy("o.id")
    .execute();
  return rows.map((row) => ({ ...row, outboxId: Number(row.outboxId), webhookId: Number(row.webhookId), attempts: Number(row.attempts) }));
}

export interface WebhookAttemptRecord {
  outboxId: number;
  claimant: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
  startedAt: number;
  durationMs: number;
  httpStatus: number | null;
  error: string | null;
  /** done: a 2xx; retry: due again at nextAttemptAt; failed: the last attempt failed. */
  outcome: "done" | "retry" | "failed";
  nextAttemptAt: number;
  now: number;
}

/**
 * Record one attempt and its outcome together: the attempt row, the item's attempts,
 * status, error and next attempt, its claim dropped. Only while this claimant holds
 * the item: a claim another process took over after expiry records nothing here.
 */
export async function recordWebhookAttempt(db: Db, record: WebhookAttemptRecord): Promise<void> {
  await writeTransaction(db, async (trx) => {
    const finished = record.outcome !== "retry";
    const updated = await trx
      .updateTable("outbox")
      .set({
        attempts: record.attempt,
        status: record.outcome === "retry" ? "pending" : record.outcome,
        next_attempt_at: record.nextAttemptAt,
        last_error: record.error,
        done_at: finished ? record.now : null,
        claimed_by: null,
        claimed_until: null,
      })
      .where("id", "=", record.outboxId)
      .where("claimed_by", "=", record.claimant)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return;
    await trx
      .insertInto("webhook_attempts")
      .values({
        outbox_id: record.outboxId,
        attempt: record.attempt,
        started_at: record.startedAt,
        duration_ms: record.durationMs,
        http_status: record.httpStatus,
        error: record.error,
      })
      .execute();
  });
}

/**
 * Items not sent because their receiver just failed: due again with the failed item,
 * no attempt counted, claim dropped. An outage thus costs one request per backoff step
 * per webhook, not one per waiting event.
 */
export async function postponeWebhookDeliveries(db: Db, claimant: string, outboxIds: readonly number[], until: number, note: string): Promise<void> {
  for (let start = 0; start < outboxIds.length; start += BATCH) {
    await db
      .updateTable("outbox")
      .set({ next_attempt_at: until, last_error: note, claimed_by: null, claimed_until: null })
      .where("id", "in", outboxIds.slice(start, start + BATCH))
      .where("claimed_by", "=", claimant)
      .where("status", "=", "pending")
      .execute();
  }
}

/** One delivery (an event to a webhook) as `keepwarm webhooks log` shows it. */
export interface WebhookLogEntry {
  deliveryId: number;
  webhookId: number;
  url: string;
  eventId: string;
  type: string;
  status: OutboxTable["status"];
  attempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  /** When the next attempt is due (pending items only). */
  nextAttemptAt: number | null;
  /** When the receiver answered 2xx. */
  deliveredAt: number | null;
  createdAt: number;
}

/** Deliveries newest first: of one webhook, only failed ones, or all. */
export async function webhookLog(db: Db, filter: { webhookId?: number | undefined; failed?: boolean; limit: number }): Promise<WebhookLogEntry[]> {
  const rows = await db
    .selectFrom("outbox as o")
    .innerJoin("webhooks as w", "w.id", "o.webhook_id")
    .innerJoin("webhook_events as e", "e.id", "o.webhook_event_id")
    .select((eb) => [
      "o.id as deliveryId",
      "w.id as webhookId",
      "w.url",
      "e.event_id as eventId",
      "e.type",
      "o.status",
      "o.attempts",
      "o.last_error as lastError",
      "o.next_attempt_at as nextAttemptAt",
      "o.done_at as doneAt",
      "o.created_at as createdAt",
      eb
        .selectFrom("webhook_attempts as a")
        .select("a.http_status")
        .whereRef("a.outbox_id", "=", "o.id")
        .orderBy("a.attempt", "desc")
        .limit(1)
        .as("lastHttpStatus"),
    ])
    .where("o.webhook_id", "is not", null)
    .$if(filter.webhookId !== undefined, (qb) => qb.where("o.webhook_id", "=", filter.webhookId as number))
    .$if(filter.failed === true, (qb) => qb.where("o.status", "=", "failed"))
    .orderBy("o.id", "desc")
    .limit(filter.limit)
    .execute();
  return rows.map((row) => ({
    deliveryId: Number(row.deliveryId),
    webhookId: Number(row.webhookId),
    url: row.url,
    eventId: row.eventId,
    type: row.type,
    status: row.status,
    attempts: Number(row.attempts),
    lastHttpStatus: row.lastHttpStatus === null ? null : Number(row.lastHttpStatus),
    lastError: row.lastError,
    nextAttemptAt: row.status === "pending" ? Number(row.nextAttemptAt) : null,
    deliveredAt: row.status === "done" && row.doneAt !== null ? Number(row.doneAt) : null,
    createdAt: Number(row.createdAt),
  }));
}

export interface WebhookAttemptRow {
  deliveryId: number;
  attempt: number;
  startedAt: number;
  durationMs: number;
  httpStatus: number | null;
  error: string | null;
}

/** Every attempt of these deliveries, in order. */
export async function webhookAttempts(db: Db, deliveryIds: readonly number[]): Promise<WebhookAttemptRow[]> {
  const out: WebhookAttemptRow[] = [];
  for (let start = 0; start < deliveryIds.length; start += BATCH) {
    const rows = await db
      .selectFrom("webhook_attempts")
      .select(["outbox_id", "attempt", "started_at", "duration_ms", "http_status", "error"])
      .where("outbox_id", "in", deliveryIds.slice(start, start + BATCH))
      .orderBy("outbox_id")
      .orderBy("attempt")
      .execute();
    for (const row of rows)
      out.push({
        deliveryId: Number(row.outbox_id),
        attempt: row.attempt,
        startedAt: Number(row.started_at),
        durationMs: row.duration_ms,
        httpStatus: row.http_status,
        error: row.error,
      });
  }
  return out;
}

/** Webhook items pending and failed (health and doctor). */
export async function webhookBacklog(db: Db): Promise<{ pending: number; failed: number }> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere("status", "=", "pending").as("pending"),
      eb.fn.countAll<number>().filterWhere("status", "=", "failed").as("failed"),
    ])
    .where("kind", "=", WEBHOOK)
    .where("status", "in", ["pending", "failed"])
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), failed: Number(row.failed) };
}

/** Events written so far (benchmarks). */
export async function countWebhookEvents(db: Db): Promise<number> {
  const row = await db
    .selectFrom("webhook_events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
