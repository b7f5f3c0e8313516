import { type PendingDelivery, selectPendingDeliveries, toPendingDelivery } from "./pending-deliveries";
import { type ExpressionBuilder, sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { type Db, writeTransaction } from "../engine/transaction";
import type { Database } from "../schema";
import { enqueueOutbox } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

export interface ClaimRequest {
  /** Who claims: unique per delivery process (and per SlackDelivery in it). */
  claimant: string;
  now: number;
  /** How long the claim holds unless renewed (renewDeliveryClaims). */
  ttlMs: number;
  /** Due items looked at per claim; a recipient's other due items come along. */
  limit: number;
}

export interface DeliveryClaim {
  /** The claimed items, oldest outbox item first. */
  items: PendingDelivery[];
  claimedUntil: number;
  /** Due items other processes hold right now (their recipients are busy). */
  heldElsewhere: number;
  /** Claim again soon: the look-up was full, or another claimer took recipients this one saw free. */
  more: boolean;
}

type OutboxScope = ExpressionBuilder<Database & { o: Database["outbox"]; n: Database["nudges"]; c: Database["customers"] }, "o" | "n" | "c">;

/**
 * Slack's items only: a webhook item has no nudge, so the inner join leaves it out.
 *
 * Who an item is for, as far as delivery must keep it together: a rep's DMs (one
 * daily budget, one digest), a channel's nudges (one digest), a channel's message
 * updates; an escalation stands alone. A claim takes a recipient's due items whole,
 * so two processes never split a rep's budget or a digest between them.
 */
const RECIPIENT = sql<string>`CASE o.kind
    WHEN 'deliver' THEN CASE WHEN n.destination = 'owner' THEN 'owner:' || coalesce(c.owner_slack_id, '') ELSE 'channel:' || n.destination END
    WHEN 'update' THEN 'update:' || coalesce(n.slack_channel, '')
    ELSE 'item:' || CAST(o.id AS TEXT) END`;

function pendingItems(db: Db) {
  return db
    .selectFrom("outbox as o")
    .innerJoin("nudges as n", "n.id", "o.nudge_id")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .where("o.status", "=", "pending");
}

const unclaimedAt = (now: number) => (eb: OutboxScope) => eb.or([eb("o.claimed_until", "is", null), eb("o.claimed_until", "<=", now)]);

/** Rows per IN list: far under both engines' bound-parameter limits. */
const BATCH = 1000;
/** Claimed items read per query: each read is synchronous on SQLite. */
const READ_BATCH = 200;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Recipients with items another process holds right now, and how many of those items are due. */
async function heldElsewhere(trx: Db, claimant: string, now: number): Promise<{ busy: Set<string>; due: number }> {
  const rows = await pendingItems(trx)
    .select((eb) => [RECIPIENT.as("recipient"), eb.fn.countAll<number>().filterWhere("o.next_attempt_at", "<=", now).as("due")])
    .where("o.claimed_by", "is not", null)
    .where("o.claimed_by", "<>", claimant)
    .where("o.claimed_until", ">", now)
    .groupBy(RECIPIENT)
    .execute();
  return { busy: new Set(rows.map((row) => row.recipient)), due: rows.reduce((sum, row) => sum + Number(row.due), 0) };
}

/**
 * Claim due outbox items for one delivery pass: each item goes to exactly one process,
 * and a recipient's due items go together to one process at a time. One short write
 * transaction: pick the recipients of the oldest due unclaimed items that no other
 * process holds, then mark all their due unclaimed items `claimed_by`/`claimed_until`,
 * selected `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent claimers never wait
 * on each other's rows. On PostgreSQL a recipient is taken under a transaction-scoped
 * advisory lock, tried and never waited for, and checked free again under it: two
 * claimers that both saw it free cannot both take it. On SQLite the write transaction
 * (one writer at a time) gives the same. A claim expires: a killed process's items
 * are taken over after `ttlMs`.
 */
export async function claimDueDeliveries(db: Db, request: ClaimRequest): Promise<DeliveryClaim> {
  const { claimant, now, limit } = request;
  const claimedUntil = now + request.ttlMs;
  const postgres = isPostgres(db);
  const claimed = await writeTransaction(db, async (trx) => {
    const seen = await heldElsewhere(trx, claimant, now);
    const candidates = await pendingItems(trx)
      .select(["o.id as id", RECIPIENT.as("recipient")])
      .where("o.next_attempt_at", "<=", now)
      .where(unclaimedAt(now))
      .$if(seen.busy.size > 0 && seen.busy.size <= BATCH, (qb) => qb.where(RECIPIENT, "not in", [...seen.busy]))
      .orderBy("o.id")
      .limit(limit)
      .execute();
    const seenFree = [...new Set(candidates.map((c) => c.recipient))].filter((r) => !seen.busy.has(r));
    let recipients = seenFree;
    if (postgres && recipients.length > 0) {
      const locked = await sql<{ recipient: string }>`SELECT r AS recipient FROM unnest(${recipients}::text[]) AS r
        WHERE pg_try_advisory_xact_lock(hashtext('keepwarm.outbox'), hashtext(r))`.execute(trx);
      recipients = locked.rows.map((row) => row.recipient);
    }
    // Under the locks: a claimer that committed since the first look may hold some of them now.
    const held = await heldElsewhere(trx, claimant, now);
    const taken = recipients.filter((r) => !held.busy.has(r));
    const ids: number[] = [];
    for (const part of batches(taken)) {
      const claimable = pendingItems(trx)
        .select("o.id")
        .where("o.next_attempt_at", "<=", now)
        .where(unclaimedAt(now))
        .where(RECIPIENT, "in", part)
        .$if(postgres, (qb) => qb.forUpdate("o").skipLocked());
      const rows = await trx
        .updateTable("outbox")
        .set({ claimed_by: claimant, claimed_until: claimedUntil })
        .where("id", "in", claimable)
        .returning("id")
        .execute();
      for (const row of rows) ids.push(row.id);
    }
    return { ids, heldElsewhere: held.due, more: candidates.length === limit || taken.length < seenFree.length };
  });
  // The rows are ours now: read what to post outside the write transaction, in small
  // reads with a turn of the event loop between them (requests waiting are served first).
  const items: PendingDelivery[] = [];
  for (let start = 0; start < claimed.ids.length; start += READ_BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const part = claimed.ids.slice(start, start + READ_BATCH);
    const rows = await selectPendingDeliveries(db).where("o.id", "in", part).execute();
    for (const row of rows) items.push(toPendingDelivery(row));
  }
  items.sort((a, b) => a.outboxId - b.outboxId);
  return { items, claimedUntil, heldElsewhere: claimed.heldElsewhere, more: claimed.more };
}

/**
 * The heartbeat of a long pass: extend this claimant's live claims on its pending
 * items. Returns the ids still held. A claim that ran out is not revived, even if
 * nobody took it yet: from its expiry on, another process may have it, so its former
 * holder must not post it.
 */
export async function renewDeliveryClaims(db: Db, claimant: string, now: number, claimedUntil: number): Promise<number[]> {
  const rows = await db
    .updateTable("outbox")
    .set({ claimed_until: claimedUntil })
    .where("claimed_by", "=", claimant)
    .where("claimed_until", ">", now)
    .where("status", "=", "pending")
    .returning("id")
    .execute();
  return rows.map((row) => row.id);
}

/** End of a pass: what this claimant did not finish is free for anyone at once. */
export async function releaseDeliveryClaims(db: Db, claimant: string): Promise<void> {
  await db.updateTable("outbox").set({ claimed_by: null, claimed_until: null }).where("claimed_by", "=", claimant).execute();
}

/**
 * The intent, recorded before a Slack write: the attempt is counted and the channel
 * id and send time kept until Slack's answer is recorded. If the process dies or the
 * answer never comes, the next attempt finds the intent and settles it with one
 * bounded look-up (that channel, a window around `at`) instead of scanning history.
 */
export async function recordDeliveryIntent(db: Db, outboxIds: readonly number[], channel: string, at: number): Promise<void> {
  for (const part of batches(outboxIds)) {
    await db
      .updateTable("outbox")
      .set((eb) => ({ attempts: eb("attempts", "+", 1), intent_channel: channel, intent_at: at }))
      .where("id", "in", part)
      .execute();
  }
}

/**
 * Slack definitely did not post (a refusal, a 429) or a look-up found nothing: forget
 * the intent; `undoAttempt` also takes back the attempt it counted (a 429 is no failure).
 */
export async function clearDeliveryIntent(db: Db, outboxIds: readonly number[], options: { undoAttempt: boolean }): Promise<void> {
  for (const part of batches(outboxIds)) {
    await db
      .updateTable("outbox")
      .set((eb) => ({
        intent_channel: null,
        intent_at: null,
        ...(options.undoAttempt
          ? {
              attempts: eb
                .case()
                .when("attempts", ">", 0)
                .then(eb("attempts", "-", 1))
                .else(0)
                .end(),
            }
          : {}),
      }))
      .where("id", "in", part)
      .execute();
  }
}

/** The most attempts any of these items has had. */
export async function maxDeliveryAttempts(db: Db, outboxIds: readonly number[]): Promise<number> {
  let most = 0;
  for (const part of batches(outboxIds)) {
    const row = await db
      .selectFrom("outbox")
      .select((eb) => eb.fn.max("attempts").as("a"))
      .where("id", "in", part)
      .executeTakeFirst();
    most = Math.max(most, Number(row?.a ?? 0));
  }
  return most;
}

/**
 * Slack has the message: the nudges record where it is, their items are done, and
 * nudge.delivered is emitted for each (a re-delivery after a snooze emits it again). One
 * transaction. A nudge closed or snoozed while its message was on the way (a post that
 * hung, settled later by a look-up) gets an `update`, so its buttons do not stay.
 */
export async function recordDelivered(
  db: Db,
  items: ReadonlyArray<{ outboxId: number; nudgeId: number }>,
  message: { channel: string; ts: string },
  now: number,
): Promise<void> {
  if (items.length === 0) return;
  await writeTransaction(db, async (trx) => {
    for (const part of batches(items)) {
      // A re-delivery (a snooze ended): the message before stays in Slack, so it is kept
      // with the nudge and rewritten to its current state, like every later change.
      const earlier = await trx
        .selectFrom("nudges")
        .select(["id", "slack_channel", "slack_ts"])
        .where(
          "id",
          "in",
          part.map((i) => i.nudgeId),
        )
        .where("slack_ts", "is not", null)
        .execute();
      const replaced = earlier.filter(
        (row) => row.slack_channel !== null && row.slack_ts !== null && (row.slack_channel !== message.channel || row.slack_ts !== message.ts),
      );
      if (replaced.length > 0) {
        await trx
          .insertInto("nudge_earlier_messages")
          .values(replaced.map((row) => ({ nudge_id: row.id, slack_channel: row.slack_channel ?? "", slack_ts: row.slack_ts ?? "", replaced_at: now })))
          .onConflict((oc) => oc.doNothing())
          .execute();
        await enqueueOutbox(
          trx,
          replaced.map((row) => ({ kind: "update" as const, nudgeId: row.id })),
          now,
        );
      }
      await trx
        .updateTable("nudges")
        .set((eb) => ({ delivered_at: eb.fn.coalesce("delivered_at", eb.val(now)), slack_channel: message.channel, slack_ts: message.ts }))
        .where(
          "id",
          "in",
          part.map((i) => i.nudgeId),
        )
        .execute();
      await finishOutboxItems(
        trx,
        part.map((i) => i.outboxId),
        now,
        "done",
      );
      const changed = await trx
        .selectFrom("nudges")
        .select("id")
        .where(
          "id",
          "in",
          part.map((i) => i.nudgeId),
        )
        .where("status", "<>", "open")
        .execute();
      await enqueueOutbox(
        trx,
        changed.map((row) => ({ kind: "update" as const, nudgeId: row.id })),
        now,
      );
      await emitNudgeEvents(
        trx,
        "nudge.delivered",
        part.map((i) => i.nudgeId),
        now,
      );
    }
  });
}

/** Items that need nothing more: done, skipped (with why) or failed for good (with Slack's answer). */
export async function finishOutboxItems(
  db: Db,
  outboxIds: readonly number[],
  now: number,
  status: "done" | "skipped" | "failed",
  note: string | null = null,
): Promise<void> {
  for (const part of batches(outboxIds)) {
    await db
      .updateTable("outbox")
      .set({ status, done_at: now, last_error: note, claimed_by: null, claimed_until: null, intent_channel: null, intent_at: null })
      .where("id", "in", part)
      .execute();
  }
}

/** Try these pending items again at `nextAttemptAt` (backoff, rate limit, the nudge budget), saying why. */
export async function rescheduleOutboxItems(db: Db, outboxIds: readonly number[], nextAttemptAt: number, note: string): Promise<void> {
  for (const part of batches(outboxIds)) {
    await db.updateTable("outbox").set({ next_attempt_at: nextAttemptAt, last_error: note }).where("id", "in", part).where("status", "=", "pending").execute();
  }
}

/** Pending Slack items that failed at least once and wait for a retry. */
export async function countRetryingOutbox(db: Db): Promise<number> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "=", "pending")
    .where("kind", "<>", "webhook")
    .where("attempts", ">", 0)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Outbox items per status (benchmarks and checks watch the backlog drain). */
export async function outboxStatusCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("outbox")
    .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/** A channel name (without `#`) resolved before, or undefined. */
export async function storedSlackChannelId(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom("slack_channels").select("channel_id").where("name", "=", name).executeTakeFirst();
  return row?.channel_id;
}

/** Keep channel names resolved to ids (from one conversations.list), replacing older answers. */
export async function storeSlackChannelIds(db: Db, channels: ReadonlyArray<{ name: string; id: string }>, now: number): Promise<void> {
  // One row per name: PostgreSQL refuses an upsert that meets the same row twice.
  const unique = [...new Map(channels.map((c) => [c.name, c])).values()];
  for (const part of batches(unique)) {
    await db
      .insertInto("slack_channels")
      .values(part.map((c) => ({ name: c.name, channel_id: c.id, resolved_at: now })))
      .onConflict((oc) => oc.column("name").doUpdateSet((eb) => ({ channel_id: eb.ref("excluded.channel_id"), resolved_at: eb.ref("excluded.resolved_at") })))
      .execute();
  }
}

/** The Slack messages a nudge was posted in before its latest one (re-deliveries), per nudge. */
export async function earlierNudgeMessages(db: Db, nudgeIds: readonly number[]): Promise<Array<{ nudgeId: number; channel: string; ts: string }>> {
  const rows: Array<{ nudgeId: number; channel: string; ts: string }> = [];
  for (const part of batches(nudgeIds)) {
    rows.push(
      ...(await db
        .selectFrom("nudge_earlier_messages")
        .select(["nudge_id as nudgeId", "slack_channel as channel", "slack_ts as ts"])
        .where("nudge_id", "in", part)
        .orderBy("id")
        .execute()),
    );
  }
  return rows;
}
