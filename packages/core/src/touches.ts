import type { Store, TouchKind, TouchSource } from "@keepwarm/store";
import { DAY_MS, TOUCH_KINDS } from "@keepwarm/store";
import { UserError } from "./errors";
import { cachedStatement } from "./statements";

export interface ResolvedNudge {
  nudgeId: number;
  ruleId: string;
  customerId: number;
  touchId: number;
}

export interface TouchInput {
  customerId: number;
  kind: TouchKind;
  occurredAt: number;
  note?: string | null;
  loggedBy?: string | null;
  source: TouchSource;
  now?: number;
}

export const isTouchKind = (text: string): text is TouchKind => (TOUCH_KINDS as readonly string[]).includes(text);

/**
 * Close the live "contact" nudges that touches newer than `afterTouchId` answer: a
 * touch resolves a nudge when it is newer than the customer's last touch at the time
 * the nudge was planned (an old touch imported late changes nothing).
 * Must run inside the caller's transaction.
 */
export function resolveNudgesByTouches(store: Store, afterTouchId: number, now: number): ResolvedNudge[] {
  const candidates = cachedStatement(
    store,
    `SELECT n.id AS nudgeId, n.rule_id AS ruleId, n.customer_id AS customerId, n.cooldown_days AS cooldownDays,
         (n.delivered_at IS NOT NULL) AS delivered,
         (SELECT t.id FROM touchpoints t WHERE t.customer_id = n.customer_id AND t.id > @after
            AND t.occurred_at > coalesce(n.last_touch_at, -1) AND t.occurred_at <= @now
            ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) AS touchId
       FROM nudges n
       WHERE n.status IN ('open','snoozed') AND n.resolve_on_touch = 1
         AND n.customer_id IN (SELECT DISTINCT customer_id FROM touchpoints WHERE id > @after)`,
  ).all({ after: afterTouchId, now }) as Array<ResolvedNudge & { touchId: number | null; cooldownDays: number; delivered: number }>;
  const resolve = cachedStatement(
    store,
    `UPDATE nudges SET status = 'resolved', closed_at = @now, close_reason = 'touch', resolved_touch_id = @touchId,
       closed_by = (SELECT coalesce(logged_by, source) FROM touchpoints WHERE id = @touchId),
       cooldown_until = @cooldownUntil, updated_at = @now
     WHERE id = @nudgeId AND status IN ('open','snoozed')`,
  );
  const enqueue = cachedStatement(
    store,
    "INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES ('update', ?, 'pending', 0, ?, ?)",
  );
  const resolved: ResolvedNudge[] = [];
  for (const candidate of candidates) {
    if (candidate.touchId === null) continue;
    const changes = resolve.run({
      now,
      touchId: candidate.touchId,
      cooldownUntil: now + candidate.cooldownDays * DAY_MS,
      nudgeId: candidate.nudgeId,
    }).changes;
    if (changes === 0) continue;
    if (candidate.delivered) enqueue.run(candidate.nudgeId, now, now);
    resolved.push({ nudgeId: candidate.nudgeId, ruleId: candidate.ruleId, customerId: candidate.customerId, touchId: candidate.touchId });
  }
  return resolved;
}

/** Record a touch and, in the same transaction, resolve the nudges it answers. */
export function logTouch(store: Store, input: TouchInput): { touchId: number; resolved: ResolvedNudge[] } {
  const now = input.now ?? Date.now();
  if (input.occurredAt > now + 5 * 60_000) throw new UserError("the touch date is in the future");
  if (!isTouchKind(input.kind)) throw new UserError(`unknown touch kind "${input.kind}": use ${TOUCH_KINDS.join(", ")}`);
  return store.sqlite
    .transaction(() => {
      const touchId = Number(
        cachedStatement(store, "INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
          input.customerId,
          input.kind,
          input.occurredAt,
          now,
          input.loggedBy ?? null,
          input.note ?? null,
          input.source,
        ).lastInsertRowid,
      );
      return { touchId, resolved: resolveNudgesByTouches(store, touchId - 1, now) };
    })
    .immediate();
}
