import type { Db } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";
import { enqueueOutbox, type OutboxWrite } from "./outbox";

/** A live nudge as the sweep plans against it. */
export interface LiveNudgeRow {
  id: number;
  ruleId: string;
  customerId: number;
  status: "open" | "snoozed";
  snoozedUntil: number | null;
  /** 1 when it reached its rep (an expiry then sends an update), else 0. */
  delivered: number;
}

/** The live nudges of the customers with ids in (after, last]. Reads the narrow nudges_live_plan index. */
export async function liveNudgesInRange(db: Db, after: number, last: number): Promise<LiveNudgeRow[]> {
  const rows = await db
    .selectFrom("nudges")
    .select(["id", "rule_id as ruleId", "customer_id as customerId", "status", "snoozed_until as snoozedUntil", "delivered_at as deliveredAt"])
    .where("customer_id", ">", after)
    .where("customer_id", "<=", last)
    .where("status", "in", LIVE_STATUSES)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    ruleId: row.ruleId,
    customerId: row.customerId,
    status: row.status as LiveNudgeRow["status"],
    snoozedUntil: row.snoozedUntil,
    delivered: row.deliveredAt === null ? 0 : 1,
  }));
}

/** The (rule, customer) pairs of customers in (after, last] still inside a cooldown at `now`. */
export async function coolingPairsInRange(db: Db, after: number, last: number, now: number): Promise<Array<{ ruleId: string; customerId: number }>> {
  return db
    .selectFrom("nudges")
    .select(["rule_id as ruleId", "customer_id as customerId"])
    .distinct()
    .where("customer_id", ">", after)
    .where("customer_id", "<=", last)
    .where("cooldown_until", ">", now)
    .execute();
}

/** A nudge a sweep creates; it starts open. */
export interface PlannedNudgeRow {
  ruleId: string;
  ruleSetVersion: number;
  customerId: number;
  priority: number;
  explanation: string;
  message: string;
  action: string | null;
  /** JSON of the facts the nudge keeps. */
  facts: string;
  heldOut: boolean;
  resolveOnTouch: boolean;
  cooldownDays: number;
  destination: string;
  sweepRunId: number;
  lastTouchAt: number | null;
}

export interface NudgePlanWrite {
  create: readonly PlannedNudgeRow[];
  /** Snoozed nudges whose snooze ended and whose conditions still hold. */
  reopen: readonly number[];
  /** Live nudges whose conditions no longer hold, with the close reason. */
  expire: ReadonlyArray<{ id: number; reason: string }>;
}

/** Rows per statement: 17 parameters a row stays under both engines' bound-parameter limits. */
const BATCH = 1000;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += BATCH) out.push(items.slice(start, start + BATCH));
  return out;
}

/**
 * Apply one chunk of a sweep's plan inside the caller's write transaction, with the
 * deliveries it causes. Creates skip a (rule, customer) that already has a live nudge
 * (the partial unique index: a concurrent writer may have won it); reopen and expire
 * touch only nudges still in the state the plan saw. Deliveries of created and
 * reopened nudges are enqueued `held` (released when the sweep ends); held-out nudges
 * are never delivered; an expired nudge its rep saw gets an `update`.
 * Returns the (rule, customer) pairs actually created.
 */
export async function applyNudgePlan(trx: Db, plan: NudgePlanWrite, now: number): Promise<Array<{ ruleId: string; customerId: number }>> {
  const outbox: OutboxWrite[] = [];
  const created: Array<{ ruleId: string; customerId: number }> = [];
  for (const rows of batches(plan.create)) {
    const heldOut = new Set(rows.filter((row) => row.heldOut).map((row) => `${row.ruleId}\u0000${row.customerId}`));
    const inserted = await trx
      .insertInto("nudges")
      .values(
        rows.map((row) => ({
          rule_id: row.ruleId,
          rule_set_version: row.ruleSetVersion,
          customer_id: row.customerId,
          status: "open" as const,
          priority: row.priority,
          explanation: row.explanation,
          message: row.message,
          action: row.action,
          facts: row.facts,
          held_out: row.heldOut ? 1 : 0,
          resolve_on_touch: row.resolveOnTouch ? 1 : 0,
          cooldown_days: row.cooldownDays,
          destination: row.destination,
          sweep_run_id: row.sweepRunId,
          last_touch_at: row.lastTouchAt,
          created_at: now,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning(["id", "rule_id as ruleId", "customer_id as customerId"])
      .execute();
    for (const row of inserted) {
      const customerId = Number(row.customerId);
      created.push({ ruleId: row.ruleId, customerId });
      // Held-out nudges are recorded for the experiment and never delivered.
      if (!heldOut.has(`${row.ruleId}\u0000${customerId}`)) outbox.push({ kind: "deliver", nudgeId: Number(row.id), status: "held" });
    }
  }
  for (const ids of batches(plan.reopen)) {
    const reopened = await trx
      .updateTable("nudges")
      .set({ status: "open", snoozed_until: null, updated_at: now })
      .where("id", "in", ids)
      .where("status", "=", "snoozed")
      .returning("id")
      .execute();
    for (const row of reopened) outbox.push({ kind: "deliver", nudgeId: Number(row.id), status: "held" });
  }
  const byReason = new Map<string, number[]>();
  for (const { id, reason } of plan.expire) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
  for (const [reason, all] of byReason) {
    for (const ids of batches(all)) {
      const expired = await trx
        .updateTable("nudges")
        .set({ status: "expired", closed_at: now, close_reason: reason, updated_at: now })
        .where("id", "in", ids)
        .where("status", "in", LIVE_STATUSES)
        .returning(["id", "delivered_at as deliveredAt"])
        .execute();
      for (const row of expired) if (row.deliveredAt !== null) outbox.push({ kind: "update", nudgeId: Number(row.id) });
    }
  }
  await enqueueOutbox(trx, outbox, now);
  return created;
}

/**
 * Deliveries a sweep holds (its own when it ends, or a dead sweep's when the next
 * one starts) become pending. Only the sweep lease holder holds deliveries, so call
 * it holding that lease.
 */
export async function releaseHeldOutbox(db: Db): Promise<number> {
  const result = await db.updateTable("outbox").set({ status: "pending" }).where("status", "=", "held").executeTakeFirst();
  return Number(result.numUpdatedRows);
}
