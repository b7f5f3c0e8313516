import type BetterSqlite3 from "better-sqlite3";
import { type SelectQueryBuilder, sql } from "kysely";
import type { Db } from "../engine/transaction";
import { pgArray } from "../engine/pg-array";
import { driverOf, type Store } from "../open-store";
import type { Database } from "../schema";
import { LIVE_STATUSES } from "../tables/nudges.table";
import { enqueueOutbox, type OutboxWrite } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

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

/** Which customers a plan read covers: the ids in (after, last] (a sweep's chunk), or a list (real-time evaluation). */
export type PlanScope = { after: number; last: number } | { customerIds: readonly number[] };

type NudgeRead = SelectQueryBuilder<Database, "nudges", object>;

function scoped(query: NudgeRead, scope: PlanScope): NudgeRead {
  if ("customerIds" in scope) return query.where("customer_id", "in", scope.customerIds.length === 0 ? [-1] : [...scope.customerIds]);
  return query.where("customer_id", ">", scope.after).where("customer_id", "<=", scope.last);
}

/** The live nudges of the customers of `scope`. Reads the narrow nudges_live_plan index. */
export async function liveNudgesOf(db: Db, scope: PlanScope): Promise<LiveNudgeRow[]> {
  const rows = await scoped(db.selectFrom("nudges"), scope)
    .select(["id", "rule_id as ruleId", "customer_id as customerId", "status", "snoozed_until as snoozedUntil", "delivered_at as deliveredAt"])
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

/** The live nudges of the customers with ids in (after, last]. */
export async function liveNudgesInRange(db: Db, after: number, last: number): Promise<LiveNudgeRow[]> {
  return liveNudgesOf(db, { after, last });
}

/** The (rule, customer) pairs of the customers of `scope` still inside a cooldown at `now`. */
export async function coolingPairsOf(db: Db, scope: PlanScope, now: number): Promise<Array<{ ruleId: string; customerId: number }>> {
  return scoped(db.selectFrom("nudges"), scope)
    .select(["rule_id as ruleId", "customer_id as customerId"])
    .distinct()
    .where("cooldown_until", ">", now)
    .execute();
}

/** The (rule, customer) pairs of customers in (after, last] still inside a cooldown at `now`. */
export async function coolingPairsInRange(db: Db, after: number, last: number, now: number): Promise<Array<{ ruleId: string; customerId: number }>> {
  return coolingPairsOf(db, { after, last }, now);
}

/** A nudge a sweep (or a real-time evaluation, without a sweep run) creates; it starts open. */
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
  sweepRunId: number | null;
  lastTouchAt: number | null;
  /** "a" or "b" when the rule runs an A/B test of its message; else null. */
  variant: "a" | "b" | null;
}

export interface NudgePlanWrite {
  create: readonly PlannedNudgeRow[];
  /** Snoozed nudges whose snooze ended and whose conditions still hold. */
  reopen: readonly number[];
  /** Live nudges whose conditions no longer hold, with the close reason. */
  expire: ReadonlyArray<{ id: number; reason: string }>;
}

/** Ids per `IN (…)` list: well under both engines' bound-parameter limits. */
const BATCH = 1000;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += BATCH) out.push(items.slice(start, start + BATCH));
  return out;
}

type Created = { id: number; ruleId: string; customerId: number };

const INSERT_NUDGE_SQLITE = `INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, action, facts,
    held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, created_at, updated_at, variant)
  VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;
const insertStatements = new WeakMap<BetterSqlite3.Database, BetterSqlite3.Statement>();

/**
 * SQLite: one prepared INSERT run per nudge, on the connection the caller's write
 * transaction holds (a SQLite store has one connection, so these rows commit or roll
 * back with it). A first sweep creates a nudge for every customer at risk (14k at
 * 100k customers, 140k at 1M), and building the query per batch cost 2.5× the CPU.
 */
function insertNudgesSqlite(store: Store, rows: readonly PlannedNudgeRow[], now: number): Created[] {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite") throw new Error("not a SQLite store");
  let insert = insertStatements.get(driver.sqlite);
  if (insert === undefined) {
    insert = driver.sqlite.prepare(INSERT_NUDGE_SQLITE);
    insertStatements.set(driver.sqlite, insert);
  }
  const created: Created[] = [];
  for (const row of rows) {
    const info = insert.run(
      row.ruleId,
      row.ruleSetVersion,
      row.customerId,
      row.priority,
      row.explanation,
      row.message,
      row.action,
      row.facts,
      row.heldOut ? 1 : 0,
      row.resolveOnTouch ? 1 : 0,
      row.cooldownDays,
      row.destination,
      row.sweepRunId,
      row.lastTouchAt,
      now,
      now,
      row.variant,
    );
    if (info.changes === 1) created.push({ id: Number(info.lastInsertRowid), ruleId: row.ruleId, customerId: row.customerId });
  }
  return created;
}

/**
 * PostgreSQL: one INSERT of the whole chunk, its columns sent as array literals and
 * unnested (a round trip and a small statement however many rows; row-by-row VALUES
 * cost twice the time and three times the CPU), the created rows returned.
 */
async function insertNudgesPostgres(trx: Db, rows: readonly PlannedNudgeRow[], now: number): Promise<Created[]> {
  if (rows.length === 0) return [];
  const column = (pick: (row: PlannedNudgeRow) => string | number | null) => pgArray(rows.map(pick));
  const { rows: created } = await sql<{ id: number; rule_id: string; customer_id: number }>`
    INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, action, facts,
      held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, created_at, updated_at, variant)
    SELECT rule_id, rule_set_version, customer_id, 'open', priority, explanation, message, action, facts,
      held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, ${now}, ${now}, variant
    FROM unnest(
      ${column((row) => row.ruleId)}::text[], ${column((row) => row.ruleSetVersion)}::int[], ${column((row) => row.customerId)}::bigint[],
      ${column((row) => row.priority)}::int[], ${column((row) => row.explanation)}::text[], ${column((row) => row.message)}::text[],
      ${column((row) => row.action)}::text[], ${column((row) => row.facts)}::text[], ${column((row) => (row.heldOut ? 1 : 0))}::int[],
      ${column((row) => (row.resolveOnTouch ? 1 : 0))}::int[], ${column((row) => row.cooldownDays)}::int[], ${column((row) => row.destination)}::text[],
      ${column((row) => row.sweepRunId)}::bigint[], ${column((row) => row.lastTouchAt)}::bigint[], ${column((row) => row.variant)}::text[]
    ) AS planned (rule_id, rule_set_version, customer_id, priority, explanation, message, action, facts,
      held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, variant)
    ON CONFLICT DO NOTHING
    RETURNING id, rule_id, customer_id`.execute(trx);
  return created.map((row) => ({ id: Number(row.id), ruleId: row.rule_id, customerId: Number(row.customer_id) }));
}

/**
 * Apply one chunk of a sweep's plan inside the caller's write transaction `trx` (of
 * `store`), with the deliveries it causes. Creates skip a (rule, customer) that already
 * has a live nudge (the partial unique index: a concurrent writer may have won it);
 * reopen and expire touch only nudges still in the state the plan saw. Deliveries of
 * created and reopened nudges are enqueued `held` (released when the sweep ends), or
 * `pending` for a real-time evaluation, which nothing holds back; held-out nudges are
 * never delivered; an expired nudge its rep saw gets an `update`.
 * The webhook events (nudge.created, nudge.expired) are emitted here, the one write of
 * planned nudges, in the same transaction. Held-out nudges emit nothing: a receiver
 * acting on them would spoil the experiment.
 * Returns the (rule, customer) pairs actually created.
 */
export async function applyNudgePlan(
  store: Store,
  trx: Db,
  plan: NudgePlanWrite,
  now: number,
  options: { deliveries?: "held" | "pending" } = {},
): Promise<Array<{ ruleId: string; customerId: number }>> {
  const deliveries = options.deliveries ?? "held";
  const outbox: OutboxWrite[] = [];
  const created = store.engine === "sqlite" ? insertNudgesSqlite(store, plan.create, now) : await insertNudgesPostgres(trx, plan.create, now);
  const heldOut = new Set(plan.create.filter((row) => row.heldOut).map((row) => `${row.ruleId}\u0000${row.customerId}`));
  // Held-out nudges are recorded for the experiment and never delivered.
  const shown: number[] = [];
  for (const row of created) if (!heldOut.has(`${row.ruleId}\u0000${row.customerId}`)) shown.push(row.id);
  for (const id of shown) outbox.push({ kind: "deliver", nudgeId: id, status: deliveries });
  const expiredIds: number[] = [];
  for (const ids of batches(plan.reopen)) {
    const reopened = await trx
      .updateTable("nudges")
      .set({ status: "open", snoozed_until: null, updated_at: now })
      .where("id", "in", ids)
      .where("status", "=", "snoozed")
      .returning("id")
      .execute();
    for (const row of reopened) outbox.push({ kind: "deliver", nudgeId: Number(row.id), status: deliveries });
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
        // A nudge created after the plan's facts were read (a real-time evaluation
        // during a sweep) rests on newer facts: older ones do not expire it.
        .where("created_at", "<=", now)
        .returning(["id", "delivered_at as deliveredAt"])
        .execute();
      for (const row of expired) {
        expiredIds.push(Number(row.id));
        if (row.deliveredAt !== null) outbox.push({ kind: "update", nudgeId: Number(row.id) });
      }
    }
  }
  await enqueueOutbox(trx, outbox, now);
  await emitNudgeEvents(trx, "nudge.created", shown, now);
  await emitNudgeEvents(trx, "nudge.expired", expiredIds, now);
  return created.map((row) => ({ ruleId: row.ruleId, customerId: row.customerId }));
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
