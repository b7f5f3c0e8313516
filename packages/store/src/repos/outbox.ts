import { sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { pgArray } from "../engine/pg-array";
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
  if (items.length === 0) return;
  const postgres = isPostgres(trx);
  // PostgreSQL: every item in one statement (a first sweep enqueues thousands a chunk).
  const batch = postgres ? items.length : BATCH;
  for (let start = 0; start < items.length; start += batch) {
    const rows = items.slice(start, start + batch).map((item) => ({
      kind: item.kind,
      nudge_id: item.kind === "webhook" ? null : item.nudgeId,
      webhook_id: item.kind === "webhook" ? item.webhookId : null,
      webhook_event_id: item.kind === "webhook" ? item.webhookEventId : null,
      status: item.kind === "webhook" ? "pending" : (item.status ?? "pending"),
      attempts: 0,
      next_attempt_at: item.dueAt ?? now,
      created_at: now,
    }));
    if (postgres) await insertOutboxPostgres(trx, rows);
    else await trx.insertInto("outbox").values(rows).execute();
  }
}

type OutboxRow = Pick<OutboxTable, "kind" | "status"> & {
  nudge_id: number | null;
  webhook_id: number | null;
  webhook_event_id: number | null;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
};

/** PostgreSQL: the rows' columns as array literals, unnested: one small statement, however many rows. */
async function insertOutboxPostgres(trx: Db, rows: readonly OutboxRow[]): Promise<void> {
  const column = (pick: (row: OutboxRow) => string | number | null) => pgArray(rows.map(pick));
  await sql`INSERT INTO outbox (kind, nudge_id, webhook_id, webhook_event_id, status, attempts, next_attempt_at, created_at)
    SELECT * FROM unnest(${column((row) => row.kind)}::text[], ${column((row) => row.nudge_id)}::bigint[], ${column((row) => row.webhook_id)}::bigint[],
      ${column((row) => row.webhook_event_id)}::bigint[], ${column((row) => row.status)}::text[], ${column((row) => row.attempts)}::int[],
      ${column((row) => row.next_attempt_at)}::bigint[], ${column((row) => row.created_at)}::bigint[])`.execute(trx);
}
