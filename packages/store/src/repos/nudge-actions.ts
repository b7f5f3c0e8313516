import { sql, type UpdateObject } from "kysely";
import { type Db, writeTransaction } from "../engine/transaction";
import type { Database } from "../schema";
import { LIVE_STATUSES, type Nudge } from "../tables/nudges.table";
import type { NudgeEventType } from "../tables/webhooks.table";
import type { CooldownUntil } from "../time";
import { enqueueOutbox } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

/** What a rep's button did: the nudge as it is now, or why nothing changed. */
export type NudgeActionResult = { ok: true; nudge: Nudge } | { ok: false; reason: "not_found" | "closed"; nudge?: Nudge };

export async function findNudge(db: Db, nudgeId: number): Promise<Nudge | undefined> {
  return db.selectFrom("nudges").selectAll().where("id", "=", nudgeId).executeTakeFirst();
}

/**
 * Change a nudge that is still live, in one transaction: the status guard in the
 * UPDATE decides, so two clicks (or a click and a sweep) in two processes change it
 * once. A nudge already in Slack gets its message rewritten (outbox "update"), and
 * the change's webhook event is emitted in the same transaction.
 */
async function changeLiveNudge(
  db: Db,
  nudgeId: number,
  now: number,
  event: NudgeEventType,
  set: UpdateObject<Database, "nudges">,
  cooldownUntil?: CooldownUntil,
): Promise<NudgeActionResult> {
  return writeTransaction(db, async (trx) => {
    const nudge = await trx
      .updateTable("nudges")
      .set({ ...set, updated_at: now })
      .where("id", "=", nudgeId)
      .where("status", "in", LIVE_STATUSES)
      .returningAll()
      .executeTakeFirst();
    if (nudge === undefined) {
      const closed = await findNudge(trx, nudgeId);
      return closed === undefined ? { ok: false, reason: "not_found" } : { ok: false, reason: "closed", nudge: closed };
    }
    if (cooldownUntil !== undefined) await setCooldowns(trx, [nudge], cooldownUntil);
    if (nudge.delivered_at !== null) await enqueueOutbox(trx, [{ kind: "update", nudgeId }], now);
    await emitNudgeEvents(trx, event, [nudgeId], now);
    return { ok: true, nudge };
  });
}

/** Snooze a live nudge until `until`. */
export async function snoozeLiveNudge(db: Db, change: { nudgeId: number; until: number; by: string; now: number }): Promise<NudgeActionResult> {
  return changeLiveNudge(db, change.nudgeId, change.now, "nudge.snoozed", {
    status: "snoozed",
    snoozed_until: change.until,
    snoozed_by: change.by,
    snooze_count: sql<number>`snooze_count + 1`,
  });
}

/**
 * Close a live nudge by hand: dismissed, or resolved (the API's resolve: the customer was
 * taken care of elsewhere; close_reason "manual", so the funnel does not count it as
 * resolved by a touch). Either way its rule stays quiet for the customer for the
 * nudge's cooldown, as after a touch.
 */
export async function closeLiveNudgeByHand(
  db: Db,
  change: { nudgeId: number; as: "dismissed" | "resolved"; by: string; note: string | null; now: number; cooldownUntil: CooldownUntil },
): Promise<NudgeActionResult> {
  const dismissed = change.as === "dismissed";
  return changeLiveNudge(
    db,
    change.nudgeId,
    change.now,
    dismissed ? "nudge.dismissed" : "nudge.resolved",
    { status: change.as, closed_at: change.now, closed_by: change.by, close_reason: dismissed ? "dismissed" : "manual", close_note: change.note },
    change.cooldownUntil,
  );
}

/**
 * Set the cooldown end of nudges just closed (in the closing transaction): one UPDATE
 * per distinct cooldown length, a handful at most. The rows given are updated in place.
 */
export async function setCooldowns(
  trx: Db,
  nudges: Array<{ id: number; cooldown_days: number; cooldown_until?: number | null }>,
  cooldownUntil: CooldownUntil,
): Promise<void> {
  const byDays = new Map<number, typeof nudges>();
  for (const nudge of nudges) byDays.set(nudge.cooldown_days, [...(byDays.get(nudge.cooldown_days) ?? []), nudge]);
  for (const [days, group] of byDays) {
    const until = cooldownUntil(days);
    await trx
      .updateTable("nudges")
      .set({ cooldown_until: until })
      .where(
        "id",
        "in",
        group.map((n) => n.id),
      )
      .execute();
    for (const nudge of group) if ("cooldown_until" in nudge) nudge.cooldown_until = until;
  }
}
