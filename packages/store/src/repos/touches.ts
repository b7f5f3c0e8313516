import { CompiledQuery, sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { type Db, writeTransaction } from "../engine/transaction";
import { driverOf, type Store } from "../open-store";
import { LIVE_STATUSES } from "../tables/nudges.table";
import type { NewTouchpoint } from "../tables/touchpoints.table";
import type { CooldownUntil } from "../time";
import { queueEvaluation } from "./evaluation-queue";
import { setCooldowns } from "./nudge-actions";
import { enqueueOutbox, type OutboxWrite } from "./outbox";
import { recordTouchSqlite } from "./touches.sqlite";
import { emitNudgeEvents, emitTouchEvents } from "./webhook-events";

/** A nudge a touch closed, and the touch that did. */
export interface ResolvedNudge {
  nudgeId: number;
  ruleId: string;
  customerId: number;
  touchId: number;
}

/** A touch as a rep logs it (/touch, the modal, `keepwarm touch`). */
export interface TouchToRecord {
  customerId: number;
  kind: string;
  occurredAt: number;
  note: string | null;
  loggedBy: string | null;
  source: string;
}

export interface RecordedTouch {
  touchId: number;
  resolved: ResolvedNudge[];
}

/**
 * Record a touch and, in the same transaction, resolve the customer's nudges it
 * answers (resolveNudgesByTouch), emit touch.created and nudge.resolved, and queue the customer for real-time evaluation. On SQLite the two statements are prepared once
 * per connection (recordTouchSqlite): the bot's hot path.
 */
export async function recordTouch(store: Store, touch: TouchToRecord, now: number, cooldownUntil: CooldownUntil): Promise<RecordedTouch> {
  const driver = driverOf(store);
  if (driver.engine === "sqlite") return recordTouchSqlite(store.db, driver.sqlite, touch, now, cooldownUntil);
  return writeTransaction(store.db, async (trx) => {
    const touchId = await insertTouch(trx, {
      customer_id: touch.customerId,
      kind: touch.kind,
      occurred_at: touch.occurredAt,
      logged_at: now,
      logged_by: touch.loggedBy,
      note: touch.note,
      source: touch.source,
    });
    await emitTouchEvents(trx, [touchId], now);
    const resolved = await resolveNudgesByTouch(
      trx,
      { id: touchId, customerId: touch.customerId, occurredAt: touch.occurredAt, closedBy: touch.loggedBy ?? touch.source },
      now,
      cooldownUntil,
    );
    await queueEvaluation(trx, [touch.customerId], now);
    return { touchId, resolved };
  });
}

/** Record one touch; returns its id. */
export async function insertTouch(trx: Db, touch: NewTouchpoint): Promise<number> {
  const row = await trx.insertInto("touchpoints").values(touch).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/** Rows per INSERT: 8 columns, well under both engines' bound-parameter limits. */
const INSERT_BATCH = 1000;

/** Record many touches (tests, the demo); resolves nothing. */
export async function insertTouches(db: Db, touches: readonly NewTouchpoint[]): Promise<void> {
  for (let start = 0; start < touches.length; start += INSERT_BATCH)
    await db
      .insertInto("touchpoints")
      .values(touches.slice(start, start + INSERT_BATCH))
      .execute();
}

/** The highest touch id so far (0 when none): touches after it are the ones written since. */
export async function maxTouchId(db: Db): Promise<number> {
  const row = await db
    .selectFrom("touchpoints")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/**
 * The live contact nudges of customers touched after a touch id, each with the newest
 * such touch that answers it. The id range has an upper bound so that SQLite reads the
 * new touches by rowid (see QUEUE_TOUCHES_AFTER in evaluation-queue.ts), not the whole table.
 */
const CANDIDATES = `SELECT n.id AS "nudgeId", n.rule_id AS "ruleId", n.customer_id AS "customerId", n.cooldown_days AS "cooldownDays",
    n.delivered_at AS "deliveredAt",
    (SELECT t.id FROM touchpoints t
      WHERE t.customer_id = n.customer_id AND t.id > ? AND t.occurred_at > coalesce(n.last_touch_at, -1) AND t.occurred_at <= ?
      ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) AS "touchId"
  FROM nudges n
  WHERE n.status IN (${LIVE_STATUSES.map(() => "?").join(", ")}) AND n.resolve_on_touch = 1
    AND n.customer_id IN (SELECT DISTINCT customer_id FROM touchpoints WHERE id > ? AND id <= ${Number.MAX_SAFE_INTEGER})
  ORDER BY n.id`;
/**
 * Whether any live contact nudge exists: without one the candidates query would still
 * read every new touch for its IN list (≈ 0.1 s after a 200k-row import). The literal
 * statuses let SQLite read the partial index of live nudges (nudges_live_plan).
 */
const ANY_LIVE_CONTACT = `SELECT 1 AS "one" FROM nudges WHERE status IN (${LIVE_STATUSES.map((status) => `'${status}'`).join(", ")}) AND resolve_on_touch = 1 LIMIT 1`;
const CANDIDATES_SQL = {
  sqlite: CANDIDATES,
  postgres: CANDIDATES.split("?").reduce((text, part, i) => (i === 0 ? part : `${text}$${i}${part}`), ""),
};

interface Candidate {
  nudgeId: number;
  ruleId: string;
  customerId: number;
  cooldownDays: number;
  deliveredAt: number | null;
  touchId: number | null;
}

/**
 * Close the live "contact" nudges (resolve_on_touch) of one customer that a touch just
 * recorded answers: a touch resolves a nudge when it is newer than the customer's last
 * touch at the time the nudge was planned (an old touch logged late changes nothing),
 * and not in the future. One UPDATE over an index seek (nudges_customer): the cost of a
 * /touch does not grow with the touches stored, and the status guard makes a nudge
 * another process closed meanwhile a no-op. Run it in the transaction that inserted
 * the touch.
 */
export async function resolveNudgesByTouch(
  trx: Db,
  touch: { id: number; customerId: number; occurredAt: number; closedBy: string },
  now: number,
  cooldownUntil: CooldownUntil,
): Promise<ResolvedNudge[]> {
  if (touch.occurredAt > now) return [];
  const closed = await trx
    .updateTable("nudges")
    .set({
      status: "resolved",
      closed_at: now,
      close_reason: "touch",
      resolved_touch_id: touch.id,
      closed_by: touch.closedBy,
      updated_at: now,
    })
    .where("customer_id", "=", touch.customerId)
    .where("status", "in", LIVE_STATUSES)
    .where("resolve_on_touch", "=", 1)
    .where(sql<number>`coalesce(last_touch_at, -1)`, "<", touch.occurredAt)
    .returning(["id", "rule_id", "delivered_at", "cooldown_days"])
    .execute();
  await setCooldowns(trx, closed, cooldownUntil);
  closed.sort((a, b) => a.id - b.id);
  await enqueueOutbox(
    trx,
    closed.filter((n) => n.delivered_at !== null).map((n) => ({ kind: "update" as const, nudgeId: n.id })),
    now,
  );
  await emitNudgeEvents(
    trx,
    "nudge.resolved",
    closed.map((n) => n.id),
    now,
  );
  return closed.map((n) => ({ nudgeId: n.id, ruleId: n.rule_id, customerId: touch.customerId, touchId: touch.id }));
}

/**
 * The same for every touch written after `afterTouchId` (a touches import): each live
 * contact nudge of a customer touched since is resolved by that customer's newest such
 * touch that answers it. Run it in one transaction so the import resolves all or none.
 */
export async function resolveNudgesByTouchesAfter(trx: Db, afterTouchId: number, now: number, cooldownUntil: CooldownUntil): Promise<ResolvedNudge[]> {
  if ((await trx.executeQuery(CompiledQuery.raw(ANY_LIVE_CONTACT))).rows.length === 0) return [];
  // Pre-written SQL: building this query with kysely cost about a third of a single-event API request.
  const query = isPostgres(trx) ? CANDIDATES_SQL.postgres : CANDIDATES_SQL.sqlite;
  const candidates = (await trx.executeQuery<Candidate>(CompiledQuery.raw(query, [afterTouchId, now, ...LIVE_STATUSES, afterTouchId]))).rows.map((c) => ({
    ...c,
    touchId: c.touchId === null ? null : Number(c.touchId),
  }));
  const touchIds = [...new Set(candidates.flatMap((c) => (c.touchId === null ? [] : [c.touchId])))];
  const closers = new Map<number, string>();
  for (let start = 0; start < touchIds.length; start += INSERT_BATCH) {
    const rows = await trx
      .selectFrom("touchpoints")
      .select(["id", "logged_by", "source"])
      .where("id", "in", touchIds.slice(start, start + INSERT_BATCH))
      .execute();
    for (const row of rows) closers.set(row.id, row.logged_by ?? row.source);
  }
  return closeByTouches(trx, candidates, now, cooldownUntil, (touchId) => closers.get(touchId) ?? "import");
}

/** Resolve each candidate still live; an already delivered nudge gets its message updated (outbox "update"). */
async function closeByTouches(
  trx: Db,
  candidates: readonly Candidate[],
  now: number,
  cooldownUntil: CooldownUntil,
  closedBy: (touchId: number) => string,
): Promise<ResolvedNudge[]> {
  const resolved: ResolvedNudge[] = [];
  const updates: OutboxWrite[] = [];
  for (const candidate of candidates) {
    if (candidate.touchId === null) continue;
    const result = await trx
      .updateTable("nudges")
      .set({
        status: "resolved",
        closed_at: now,
        close_reason: "touch",
        resolved_touch_id: candidate.touchId,
        closed_by: closedBy(candidate.touchId),
        cooldown_until: cooldownUntil(candidate.cooldownDays),
        updated_at: now,
      })
      .where("id", "=", candidate.nudgeId)
      .where("status", "in", LIVE_STATUSES)
      .executeTakeFirst();
    // Another process may have closed it meanwhile: the guard above makes that a no-op.
    if (Number(result.numUpdatedRows) === 0) continue;
    if (candidate.deliveredAt !== null) updates.push({ kind: "update", nudgeId: candidate.nudgeId });
    resolved.push({ nudgeId: candidate.nudgeId, ruleId: candidate.ruleId, customerId: candidate.customerId, touchId: candidate.touchId });
  }
  await enqueueOutbox(trx, updates, now);
  await emitNudgeEvents(
    trx,
    "nudge.resolved",
    resolved.map((r) => r.nudgeId),
    now,
  );
  return resolved;
}

/** Touches from one source counted per customer (external id), kind and instant. */
export async function countTouchesBySource(db: Db, source: string): Promise<Array<{ customer: string; kind: string; at: number; n: number }>> {
  const rows = await db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select((eb) => ["c.external_id as customer", "t.kind", "t.occurred_at as at", eb.fn.countAll<number>().as("n")])
    .where("t.source", "=", source)
    .groupBy(["c.external_id", "t.kind", "t.occurred_at"])
    .execute();
  return rows.map((row) => ({ ...row, n: Number(row.n) }));
}
