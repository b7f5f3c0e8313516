import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * PostgreSQL only: the write of a few customers' touches (an HTTP API request) as
 * PL/pgSQL functions. A function's statements are planned once per session and then
 * reused, where the same statements sent one by one were parsed and planned on every
 * request (half of the backend's work per statement), and a single event's whole
 * transaction becomes one round trip (each cost the API server a socket write and a
 * wake-up). What the statements do is unchanged; see bulk-import.postgres.ts (writeFew)
 * and evaluation-queue.ts, which call them. SQLite prepares its statements in the
 * process instead (statement-cache.ts). Generic plans are forced: PostgreSQL's default
 * compares them with custom plans by estimate, and the estimate of an unnested array
 * parameter (or an id range from a parameter) looks worse than the custom plan's, so it
 * would plan every call anew; the generic plans are the same index probes.
 */

/** The customers of the touches after an id, queued (queueEvaluationOfTouchesAfter). */
const QUEUE_EVALUATION_AFTER = `CREATE FUNCTION keepwarm_queue_evaluation_after(after_touch_id bigint, at_ms bigint) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
  INSERT INTO evaluation_queue (customer_id, seq, queued_at)
    SELECT DISTINCT t.customer_id, 1, at_ms FROM touchpoints t WHERE t.id > after_touch_id AND t.id <= 9007199254740991
    ORDER BY t.customer_id
    ON CONFLICT (customer_id) DO UPDATE SET seq = evaluation_queue.seq + 1;
END
$fn$`;

/**
 * One write of a few customers' touches (writeFew): the locks, the highest touch id
 * before the write, and the insert with its dedupe, each its own statement as before
 * (so each reads a snapshot taken after the locks before it). `lock_customers` null:
 * `lock_blocks` are taken exclusively (an API batch); else the blocks shared and each
 * customer's own lock. Returns that id, the ids inserted (ascending) and the places
 * (`pos`) of the rows found stored.
 *
 * `alone_at` not null: the call is the request's whole transaction (a single event).
 * If a touch.created webhook listens, or a live contact nudge of these customers could
 * be resolved, it writes nothing and returns no row: the caller then writes in its own
 * transaction, where that work happens. Otherwise it also queues the customers for
 * evaluation at `alone_at` (what the caller would do next, with the same statement).
 */
const WRITE_TOUCHES = `CREATE FUNCTION keepwarm_write_touches(
    lock_customers bigint[], lock_blocks int[],
    in_customer_id bigint[], in_kind text[], in_occurred_at bigint[], in_logged_by text[], in_note text[], in_external_id text[],
    in_occurrence int[], in_pos int[], in_logged_at bigint,
    alone_at bigint, live_statuses text[])
  RETURNS TABLE (after_id bigint, ids bigint[], skipped int[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  locked bigint;
BEGIN
  -- No JIT for this transaction: compiling these per-row expressions costs more than it saves.
  PERFORM set_config('jit', 'off', true);
  -- The locks, and the highest touch id (read as the statement starts: touches committed meanwhile only widen the range).
  SELECT (SELECT count(*) FROM (
      SELECT pg_advisory_xact_lock_shared(hashtext('keepwarm:touch-import'), b) FROM unnest(lock_blocks) AS b WHERE lock_customers IS NOT NULL
      UNION ALL
      SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b) FROM unnest(lock_blocks) AS b WHERE lock_customers IS NULL
      UNION ALL
      SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-customer'), (c % 2147483648)::int) FROM unnest(lock_customers) AS c) AS l),
    (SELECT coalesce(max(t.id), 0) FROM touchpoints t)
  INTO locked, after_id;
  IF alone_at IS NOT NULL AND (
      EXISTS (SELECT 1 FROM webhooks w WHERE w.removed_at IS NULL AND 'touch.created' = ANY (string_to_array(w.events, ',')))
      OR EXISTS (SELECT 1 FROM nudges n WHERE n.customer_id = ANY (lock_customers) AND n.status = ANY (live_statuses) AND n.resolve_on_touch = 1)) THEN
    RETURN;
  END IF;
  -- A row without an external id is new unless \`occurrence\` stored imported touches share its content (OFFSET n-1 LIMIT 1: the nth).
  WITH v AS (
    SELECT * FROM unnest(in_customer_id, in_kind, in_occurred_at, in_logged_by, in_note, in_external_id, in_occurrence, in_pos)
      AS v(customer_id, kind, occurred_at, logged_by, note, external_id, occurrence, pos)),
  chosen AS (
    SELECT v.* FROM v
    LEFT JOIN LATERAL (
      SELECT 1 AS found FROM touchpoints t
      WHERE v.external_id IS NULL AND t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import'
        AND t.external_id IS NULL AND t.kind = v.kind AND t.note IS NOT DISTINCT FROM v.note AND t.logged_by IS NOT DISTINCT FROM v.logged_by
      OFFSET v.occurrence - 1 LIMIT 1) AS stored ON true
    LEFT JOIN LATERAL (SELECT 1 AS found FROM touchpoints t WHERE t.external_id = v.external_id LIMIT 1) AS known ON true
    WHERE stored.found IS NULL AND known.found IS NULL),
  inserted AS (
    INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
    SELECT c.customer_id, c.kind, c.occurred_at, in_logged_at, c.logged_by, c.note, c.external_id, 'import' FROM chosen c ORDER BY c.pos
    -- An external id another session stored meanwhile: its unique index decides.
    ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
    RETURNING id)
  SELECT (SELECT array_agg(i.id ORDER BY i.id) FROM inserted i),
    (SELECT array_agg(v.pos) FROM v WHERE NOT EXISTS (SELECT 1 FROM chosen c WHERE c.pos = v.pos))
  INTO ids, skipped;
  IF alone_at IS NOT NULL THEN
    PERFORM keepwarm_queue_evaluation_after(after_id, alone_at);
  END IF;
  RETURN NEXT;
END
$fn$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(QUEUE_EVALUATION_AFTER).execute(db);
  await sql.raw(WRITE_TOUCHES).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw("DROP FUNCTION IF EXISTS keepwarm_write_touches").execute(db);
  await sql.raw("DROP FUNCTION IF EXISTS keepwarm_queue_evaluation_after").execute(db);
}
