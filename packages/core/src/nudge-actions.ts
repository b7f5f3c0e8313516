import type { Calendar } from "@keepwarm/rules";
import type { ClaimResult, Nudge, NudgeActionResult, Store } from "@keepwarm/store";
import { claimUnownedCustomer, closeLiveNudgeByHand, findNudge, snoozeLiveNudge } from "@keepwarm/store";
import { calendarDaysLater, cooldownUntil } from "./dates";
import { UserError } from "./errors";

export type { ClaimResult, NudgeActionResult } from "@keepwarm/store";

export const SNOOZE_DAYS = [3, 7, 14, 30] as const;

export async function loadNudge(store: Store, nudgeId: number): Promise<Nudge | undefined> {
  return findNudge(store.db, nudgeId);
}

/**
 * Snooze a live nudge for `days` calendar days in KEEPWARM_TZ (the same time of day that
 * many days later): hidden until then; the first sweep after it re-delivers if it still holds.
 */
export async function snoozeNudge(store: Store, nudgeId: number, days: number, by: string, now = Date.now(), calendar?: Calendar): Promise<NudgeActionResult> {
  if (!(SNOOZE_DAYS as readonly number[]).includes(days)) throw new UserError(`snooze for ${SNOOZE_DAYS.join(", ")} days`);
  return snoozeLiveNudge(store.db, { nudgeId, until: calendarDaysLater(now, days, calendar), by, now });
}

/** Dismiss: closed, with an optional reason; the rule stays quiet for its cooldown. */
export async function dismissNudge(
  store: Store,
  nudgeId: number,
  by: string,
  reason: string | null,
  now = Date.now(),
  calendar?: Calendar,
): Promise<NudgeActionResult> {
  return closeLiveNudgeByHand(store.db, { nudgeId, as: "dismissed", by, note: closeNote(reason), now, cooldownUntil: cooldownUntil(now, calendar) });
}

/** "I'll take it": the clicker becomes the owner of the nudge's unowned customer, unless someone was faster. */
export async function claimNudge(store: Store, nudgeId: number, by: string, now = Date.now()): Promise<ClaimResult> {
  return claimUnownedCustomer(store.db, { nudgeId, by, now });
}
/** Resolve by hand (taken care of outside keepwarm): closed, and the rule stays quiet for its cooldown. */
export async function resolveNudge(
  store: Store,
  nudgeId: number,
  by: string,
  note: string | null,
  now = Date.now(),
  calendar?: Calendar,
): Promise<NudgeActionResult> {
  return closeLiveNudgeByHand(store.db, { nudgeId, as: "resolved", by, note: closeNote(note), now, cooldownUntil: cooldownUntil(now, calendar) });
}

const closeNote = (text: string | null): string | null => (text === null || text.trim() === "" ? null : text.trim().slice(0, 500));
