import { CompiledQuery } from "kysely";
import { isPostgres } from "../engine/dialect";
import { pgBigintArray } from "../engine/pg-array";
import { type Db, writeTransaction } from "../engine/transaction";

/** A customer a drainer took from the queue, and the queue write it saw. */
export interface ClaimedEvaluation {
  customerId: number;
  seq: number;
  queuedAt: number;
}

/** Rows per statement: well under both engines' bound-parameter limits. */
const BATCH = 1000;

const QUEUE_POSTGRES = `INSERT INTO evaluation_queue (customer_id, seq, queued_at)
  SELECT c, 1, $2::bigint FROM unnest($1::bigint[]) AS c ORDER BY c
  ON CONFLICT (customer_id) DO UPDATE SET seq = evaluation_queue.seq + 1`;

/** queueEvaluation's statement on SQLite, the ids one JSON array. `WHERE true` tells SQLite's parser that ON CONFLICT is the upsert's. */
const QUEUE_IDS_SQLITE = `INSERT INTO evaluation_queue (customer_id, seq, queued_at)
  SELECT value, 1, ? FROM json_each(?) WHERE true
  ON CONFLICT (customer_id) DO UPDATE SET seq = evaluation_queue.seq + 1`;

/**
 * Queue customers for re-evaluation. Call it in the transaction of the write that
 * changed their facts, so the change and the promise to look at it commit together.
 * A customer already queued keeps its place (its queued_at) and gets a new `seq`: a
 * drainer evaluating it from older facts leaves it queued (finishEvaluations).
 * Every writer of queue rows locks them in customer id order: on PostgreSQL two
 * concurrent writes of the same customers in opposite orders deadlocked.
 */
export async function queueEvaluation(trx: Db, customerIds: Iterable<number>, now: number): Promise<void> {
  const ids = [...new Set(customerIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  // One statement per engine, the ids one parameter (binary array on PostgreSQL, JSON on
  // SQLite): an import queues up to every customer, and kysely's 1,000-row VALUES
  // statements for them took ≈ 4 % of a 200k-row import's CPU (10,000 customers on
  // SQLite: ≈ 90 ms that way, ≈ 20 ms this way).
  if (isPostgres(trx)) await trx.executeQuery(CompiledQuery.raw(QUEUE_POSTGRES, [pgBigintArray(ids), now]));
  else await trx.executeQuery(CompiledQuery.raw(QUEUE_IDS_SQLITE, [now, JSON.stringify(ids)]));
}

/**
 * The customers of the touches after an id, queued. Both sides of the id range are
 * bounded: with `id > ?` alone SQLite's planner guesses a quarter of the table and
 * scans all of touchpoints_customer_time for the DISTINCT instead of reading the new
 * rows by rowid (8 ms per single-touch API request at 100k touches). Pre-written, as
 * building it with kysely cost a tenth of such a request. On PostgreSQL the same
 * statement is the function keepwarm_queue_evaluation_after (migration
 * 2026-12-04T01-00), planned once per connection instead of per call.
 */
const QUEUE_TOUCHES_AFTER_SQL = {
  sqlite: `INSERT INTO evaluation_queue (customer_id, seq, queued_at)
  SELECT DISTINCT customer_id, 1, CAST(? AS bigint) FROM touchpoints WHERE id > ? AND id <= ${Number.MAX_SAFE_INTEGER}
  ORDER BY customer_id
  ON CONFLICT (customer_id) DO UPDATE SET seq = evaluation_queue.seq + 1`,
  postgres: "SELECT keepwarm_queue_evaluation_after($2::bigint, $1::bigint)",
};

/**
 * Queue the customers of every touch written after `afterTouchId` (a bulk touches
 * write): one set-based statement, however many touches.
 */
export async function queueEvaluationOfTouchesAfter(trx: Db, afterTouchId: number, now: number): Promise<void> {
  await trx.executeQuery(CompiledQuery.raw(isPostgres(trx) ? QUEUE_TOUCHES_AFTER_SQL.postgres : QUEUE_TOUCHES_AFTER_SQL.sqlite, [now, afterTouchId]));
}

/**
 * Take up to `limit` queued customers, oldest first, for `ttlMs`: each goes to one
 * drainer at a time. On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so
 * concurrent drainers never wait on each other; on SQLite the write transaction (one
 * writer at a time) gives the same. `customerIds` restricts the claim to those
 * customers (a one-shot CLI evaluating what it just wrote). A killed drainer's claim
 * runs out and the customer is taken again.
 */
export async function claimEvaluations(
  db: Db,
  request: { claimant: string; now: number; limit: number; ttlMs: number; customerIds?: readonly number[] },
): Promise<ClaimedEvaluation[]> {
  const { claimant, now, limit } = request;
  if (request.customerIds !== undefined && request.customerIds.length === 0) return [];
  // Most polls find nothing: a read first keeps them out of the write lock (SQLite's is database-wide).
  const waiting = await db
    .selectFrom("evaluation_queue")
    .select("customer_id")
    .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<=", now)]))
    .$if(request.customerIds !== undefined, (qb) => qb.where("customer_id", "in", request.customerIds ?? []))
    .limit(1)
    .executeTakeFirst();
  if (waiting === undefined) return [];
  const postgres = isPostgres(db);
  return writeTransaction(db, async (trx) => {
    const rows = await trx
      .selectFrom("evaluation_queue")
      .select(["customer_id as customerId", "seq", "queued_at as queuedAt"])
      .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<=", now)]))
      .$if(request.customerIds !== undefined, (qb) => qb.where("customer_id", "in", request.customerIds ?? []))
      .orderBy("queued_at")
      .orderBy("customer_id")
      .limit(limit)
      .$if(postgres, (qb) => qb.forUpdate().skipLocked())
      .execute();
    if (rows.length === 0) return [];
    await trx
      .updateTable("evaluation_queue")
      .set({ claimed_by: claimant, claimed_until: now + request.ttlMs })
      .where(
        "customer_id",
        "in",
        rows.map((row) => row.customerId),
      )
      .execute();
    return rows.map((row) => ({ customerId: Number(row.customerId), seq: Number(row.seq), queuedAt: Number(row.queuedAt) }));
  });
}

/**
 * A drainer is done with its claimed customers: in the transaction that applied their
 * plan, delete each row no write touched since the claim; a customer queued again
 * meanwhile (its facts changed after they were read) is released for another pass.
 */
export async function finishEvaluations(trx: Db, claimant: string, claimed: readonly ClaimedEvaluation[]): Promise<void> {
  for (const row of [...claimed].sort((a, b) => a.customerId - b.customerId)) {
    await trx.deleteFrom("evaluation_queue").where("customer_id", "=", row.customerId).where("seq", "=", row.seq).where("claimed_by", "=", claimant).execute();
  }
  const ids = claimed.map((row) => row.customerId).sort((a, b) => a - b);
  for (let start = 0; start < ids.length; start += BATCH) {
    await trx
      .updateTable("evaluation_queue")
      .set({ claimed_by: null, claimed_until: null })
      .where("customer_id", "in", ids.slice(start, start + BATCH))
      .where("claimed_by", "=", claimant)
      .execute();
  }
}

/**
 * A drainer whose pass failed (a deadlock, a lost connection) hands its claimed
 * customers back at once: left to run out, its claim would hold them for a minute.
 */
export async function releaseEvaluations(db: Db, claimant: string, claimed: readonly ClaimedEvaluation[]): Promise<void> {
  const ids = claimed.map((row) => row.customerId).sort((a, b) => a - b);
  for (let start = 0; start < ids.length; start += BATCH) {
    await db
      .updateTable("evaluation_queue")
      .set({ claimed_by: null, claimed_until: null })
      .where("customer_id", "in", ids.slice(start, start + BATCH))
      .where("claimed_by", "=", claimant)
      .execute();
  }
}

/** Customers waiting for re-evaluation, and the oldest wait's start (doctor, tests, the CLI). */
export async function evaluationQueueDepth(db: Db): Promise<{ queued: number; oldestAt: number | null }> {
  const row = await db
    .selectFrom("evaluation_queue")
    .select((eb) => [eb.fn.countAll<number>().as("queued"), eb.fn.min("queued_at").as("oldestAt")])
    .executeTakeFirst();
  return { queued: Number(row?.queued ?? 0), oldestAt: row?.oldestAt === null || row?.oldestAt === undefined ? null : Number(row.oldestAt) };
}
