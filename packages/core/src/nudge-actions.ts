import type { Nudge, Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";
import { UserError } from "./errors";

export const SNOOZE_DAYS = [3, 7, 14, 30] as const;

export type NudgeActionResult = { ok: true; nudge: Nudge } | { ok: false; reason: "not_found" | "closed"; nudge?: Nudge };

export function loadNudge(store: Store, nudgeId: number): Nudge | undefined {
  return store.sqlite.prepare("SELECT * FROM nudges WHERE id = ?").get(nudgeId) as Nudge | undefined;
}

function enqueueUpdate(store: Store, nudge: Nudge, now: number): void {
  if (nudge.delivered_at === null) return;
  store.sqlite
    .prepare("INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES ('update', ?, 'pending', 0, ?, ?)")
    .run(nudge.id, now, now);
}

/** Snooze a live nudge: hidden until then; the first sweep after it re-delivers if it still holds. */
export function snoozeNudge(store: Store, nudgeId: number, days: number, by: string, now = Date.now()): NudgeActionResult {
  if (!(SNOOZE_DAYS as readonly number[]).includes(days)) throw new UserError(`snooze for ${SNOOZE_DAYS.join(", ")} days`);
  return store.sqlite
    .transaction((): NudgeActionResult => {
      const nudge = loadNudge(store, nudgeId);
      if (nudge === undefined) return { ok: false, reason: "not_found" };
      if (nudge.status !== "open" && nudge.status !== "snoozed") return { ok: false, reason: "closed", nudge };
      store.sqlite
        .prepare("UPDATE nudges SET status = 'snoozed', snoozed_until = ?, snoozed_by = ?, updated_at = ? WHERE id = ?")
        .run(now + days * DAY_MS, by, now, nudgeId);
      const updated = loadNudge(store, nudgeId) as Nudge;
      enqueueUpdate(store, updated, now);
      return { ok: true, nudge: updated };
    })
    .immediate();
}

/** Dismiss: closed, with an optional reason; the rule stays quiet for its cooldown. */
export function dismissNudge(store: Store, nudgeId: number, by: string, reason: string | null, now = Date.now()): NudgeActionResult {
  return store.sqlite
    .transaction((): NudgeActionResult => {
      const nudge = loadNudge(store, nudgeId);
      if (nudge === undefined) return { ok: false, reason: "not_found" };
      if (nudge.status !== "open" && nudge.status !== "snoozed") return { ok: false, reason: "closed", nudge };
      store.sqlite
        .prepare(
          "UPDATE nudges SET status = 'dismissed', closed_at = ?, closed_by = ?, close_reason = 'dismissed', close_note = ?, cooldown_until = ?, updated_at = ? WHERE id = ?",
        )
        .run(now, by, reason === null || reason.trim() === "" ? null : reason.trim().slice(0, 500), now + nudge.cooldown_days * DAY_MS, now, nudgeId);
      const updated = loadNudge(store, nudgeId) as Nudge;
      enqueueUpdate(store, updated, now);
      return { ok: true, nudge: updated };
    })
    .immediate();
}
