import type BetterSqlite3 from "better-sqlite3";
import type { Db } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";
import type { CooldownUntil } from "../time";
import { queueEvaluation } from "./evaluation-queue";
import { enqueueOutbox } from "./outbox";
import type { RecordedTouch, TouchToRecord } from "./touches";
import { emitNudgeEvents, emitTouchEvents } from "./webhook-events";

interface Statements {
  insert: BetterSqlite3.Statement<unknown[]>;
  resolve: BetterSqlite3.Statement<unknown[], { id: number; rule_id: string; delivered_at: number | null; cooldown_days: number }>;
  cooldown: BetterSqlite3.Statement<unknown[]>;
}
const prepared = new WeakMap<BetterSqlite3.Database, Statements>();

const live = LIVE_STATUSES.map((status) => `'${status}'`).join(", ");

/**
 * recordTouch on SQLite: the same statements as insertTouch and resolveNudgesByTouch,
 * prepared once per connection, in one BEGIN IMMEDIATE transaction taken while holding
 * kysely's connection lock (as writeTransaction does); the outbox write goes through
 * enqueueOutbox (and the webhook events) on that same connection. A `/touch` writes nothing else, and the bot
 * logs many.
 */
export async function recordTouchSqlite(
  db: Db,
  sqlite: BetterSqlite3.Database,
  touch: TouchToRecord,
  now: number,
  cooldownUntil: CooldownUntil,
): Promise<RecordedTouch> {
  return db.connection().execute(async (conn) => {
    sqlite.exec("BEGIN IMMEDIATE");
    try {
      const recorded = await writeTouch(conn, sqlite, touch, now, cooldownUntil);
      sqlite.exec("COMMIT");
      return recorded;
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
      throw error;
    }
  });
}

async function writeTouch(trx: Db, sqlite: BetterSqlite3.Database, touch: TouchToRecord, now: number, cooldownUntil: CooldownUntil): Promise<RecordedTouch> {
  let statements = prepared.get(sqlite);
  if (statements === undefined) {
    statements = {
      insert: sqlite.prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      resolve: sqlite.prepare(
        `UPDATE nudges SET status = 'resolved', closed_at = @now, close_reason = 'touch', resolved_touch_id = @touchId, closed_by = @closedBy,
           updated_at = @now
         WHERE customer_id = @customerId AND status IN (${live}) AND resolve_on_touch = 1 AND coalesce(last_touch_at, -1) < @occurredAt
         RETURNING id, rule_id, delivered_at, cooldown_days`,
      ),
      // The cooldown's end comes from the caller's calendar (KEEPWARM_TZ): one value per nudge closed.
      cooldown: sqlite.prepare("UPDATE nudges SET cooldown_until = ? WHERE id = ?"),
    };
    prepared.set(sqlite, statements);
  }
  const touchId = Number(statements.insert.run(touch.customerId, touch.kind, touch.occurredAt, now, touch.loggedBy, touch.note, touch.source).lastInsertRowid);
  await emitTouchEvents(trx, [touchId], now);
  await queueEvaluation(trx, [touch.customerId], now);
  if (touch.occurredAt > now) return { touchId, resolved: [] };
  const closed = statements.resolve
    .all({ now, touchId, closedBy: touch.loggedBy ?? touch.source, customerId: touch.customerId, occurredAt: touch.occurredAt })
    .sort((a, b) => a.id - b.id);
  for (const n of closed) statements.cooldown.run(cooldownUntil(n.cooldown_days), n.id);
  const updates = closed.filter((n) => n.delivered_at !== null).map((n) => ({ kind: "update" as const, nudgeId: n.id }));
  if (updates.length > 0) await enqueueOutbox(trx, updates, now);
  await emitNudgeEvents(
    trx,
    "nudge.resolved",
    closed.map((n) => n.id),
    now,
  );
  return { touchId, resolved: closed.map((n) => ({ nudgeId: n.id, ruleId: n.rule_id, customerId: touch.customerId, touchId })) };
}
