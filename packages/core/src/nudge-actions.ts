import type { ClaimResult, Nudge, NudgeActionResult, Store } from "@keepwarm/store";
import { claimUnownedCustomer, DAY_MS, dismissLiveNudge, findNudge, resolveLiveNudge, snoozeLiveNudge } from "@keepwarm/store";
import { UserError } from "./errors";

export type { ClaimResult, NudgeActionResult } from "@keepwarm/store";

export const SNOOZE_DAYS = [3, 7, 14, 30] as const;

export async function loadNudge(store: Store, nudgeId: number): Promise<Nudge | undefined> {
  return findNudge(store.db, nudgeId);
}

/** Snooze a live nudge: hidden until then; the first sweep after it re-delivers if it still holds. */
export async function snoozeNudge(store: Store, nudgeId: number, days: number, by: string, now = Date.now()): Promise<NudgeActionResult> {
  if (!(SNOOZE_DAYS as readonly number[]).includes(days)) throw new UserError(`snooze for ${SNOOZE_DAYS.join(", ")} days`);
  return snoozeLiveNudge(store.db, { nudgeId, until: now + days * DAY_MS, by, now });
}

/** Dismiss: closed, with an optional reason; the rule stays quiet for its cooldown. */
export async function dismissNudge(store: Store, nudgeId: number, by: string, reason: string | null, now = Date.now()): Promise<NudgeActionResult> {
  return dismissLiveNudge(store.db, { nudgeId, by, note: closeNote(reason), now });
}

/** "I'll take it": the clicker becomes the owner of the nudge's unowned customer, unless someone was faster. */
export async function claimNudge(store: Store, nudgeId: number, by: string, now = Date.now()): Promise<ClaimResult> {
  return claimUnownedCustomer(store.db, { nudgeId, by, now });
}
/** Resolve by hand (taken care of outside keepwarm): closed, and the rule stays quiet for its cooldown. */
export async function resolveNudge(store: Store, nudgeId: number, by: string, note: string | null, now = Date.now()): Promise<NudgeActionResult> {
  return resolveLiveNudge(store.db, { nudgeId, by, note: closeNote(note), now });
}

const closeNote = (text: string | null): string | null => (text === null || text.trim() === "" ? null : text.trim().slice(0, 500));
