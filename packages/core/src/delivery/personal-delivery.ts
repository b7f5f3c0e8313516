import type { Calendar } from "@keepwarm/rules";
import { activeRuleSetRow, finishOutboxItems, type PendingDelivery, repPreferencesRows, rescheduleOutboxItems, type Store } from "@keepwarm/store";
import { validateRuleFileText } from "@keepwarm/rules";
import { applyNudgeBudget } from "./budget";
import { deliveredSinceByOwner } from "./pending";
import { decideDm, isQuietAt, localText, personalCap, preferencesFromRow, quietEndsAt, type RepPreferences, repCalendar } from "./preferences";

export interface PersonalDelivery<T> {
  /** What goes out now; `digest`: the rule is in the rep's daily digest (sent as one digest message). */
  send: Array<T & { digest: boolean }>;
  /** Rescheduled to the end of the rep's quiet time or to their digest hour. */
  held: number;
  /** Not DMed: the rep turned the rule off. The outbox item is skipped; the nudge stays open and counted. */
  muted: number;
  /** Over the rep's own daily cap: due again when their next local day starts. */
  capped: number;
}

const mutableCache = new Map<string, ReadonlySet<string>>();

/** Ids of the active rules reps may turn off (`allowMute`), parsed once per rules version. */
async function mutableRules(store: Store): Promise<ReadonlySet<string>> {
  const row = await activeRuleSetRow(store.db);
  if (row === undefined) return new Set();
  const key = `${store.location}\u0000${row.id}`;
  const cached = mutableCache.get(key);
  if (cached !== undefined) return cached;
  const parsed = validateRuleFileText(row.json);
  const ids = new Set(parsed.valid ? parsed.ruleFile.rules.filter((r) => r.nudge.allowMute).map((r) => r.id) : []);
  mutableCache.set(key, ids);
  return ids;
}

/** The stored preferences of these reps (reps without any are absent). */
export async function preferencesOf(store: Store, slackIds: readonly string[]): Promise<Map<string, RepPreferences>> {
  const rows = await repPreferencesRows(store.db, [...new Set(slackIds)]);
  return new Map(rows.map((row) => [row.slack_id, preferencesFromRow(row)]));
}

/**
 * Each rep's preferences, at the point a DM is about to be sent: muted rules are not
 * DMed, quiet time and digest rules are held (rescheduled, never dropped), and the rep's
 * own daily cap holds, counted in their local day. Items for channels, and for reps
 * without preferences, pass untouched. The outbox writes happen here, so callers only
 * send what comes back.
 */
export async function applyPreferences<T extends PendingDelivery & { recipient: string | null }>(
  store: Store,
  items: readonly T[],
  options: { now: number; team: Calendar; teamCap: number },
): Promise<PersonalDelivery<T>> {
  const result: PersonalDelivery<T> = { send: [], held: 0, muted: 0, capped: 0 };
  const recipients = items.map((i) => i.recipient).filter((r): r is string => r !== null);
  const prefs = recipients.length === 0 ? new Map<string, RepPreferences>() : await preferencesOf(store, recipients);
  if (prefs.size === 0) {
    result.send = items.map((i) => ({ ...i, digest: false }));
    return result;
  }
  const mutable = await mutableRules(store);
  const muted = new Map<string, number[]>();
  const held = new Map<string, { until: number; ids: number[] }>();
  const sendable: Array<T & { digest: boolean }> = [];
  for (const item of items) {
    const mine = item.recipient === null ? undefined : prefs.get(item.recipient);
    // Sent before with an unknown outcome: it may be in Slack already, so it is settled, never held or muted.
    if (mine === undefined || item.intentAt !== null) {
      sendable.push({ ...item, digest: false });
      continue;
    }
    const decision = decideDm(item, mine, { mutable, team: options.team, now: options.now });
    if (decision.kind === "mute") {
      const note = `muted: <@${mine.slackId}> turned rule ${item.ruleId} off in their preferences`;
      muted.set(note, [...(muted.get(note) ?? []), item.outboxId]);
    } else if (decision.kind === "hold") {
      const entry = held.get(decision.why) ?? { until: decision.until, ids: [] };
      entry.ids.push(item.outboxId);
      held.set(decision.why, entry);
    } else sendable.push({ ...item, digest: decision.digest });
  }
  for (const [note, ids] of muted) {
    await finishOutboxItems(store.db, ids, options.now, "skipped", note);
    result.muted += ids.length;
  }
  for (const [why, { until, ids }] of held) {
    await rescheduleOutboxItems(store.db, ids, until, why);
    result.held += ids.length;
  }
  result.send = await withinPersonalCaps(store, sendable, prefs, options, result);
  return result;
}

/** The personal cap, per rep in their own local day; the team's budget is applied after, as before. */
async function withinPersonalCaps<T extends PendingDelivery & { recipient: string | null }>(
  store: Store,
  items: T[],
  prefs: ReadonlyMap<string, RepPreferences>,
  options: { now: number; team: Calendar; teamCap: number },
  result: { capped: number },
): Promise<T[]> {
  const capped = new Map<string, T[]>();
  for (const item of items) {
    const mine = item.recipient === null ? undefined : prefs.get(item.recipient);
    if (mine === undefined || personalCap(mine, options.teamCap) >= options.teamCap) continue;
    capped.set(mine.slackId, [...(capped.get(mine.slackId) ?? []), item]);
  }
  if (capped.size === 0) return items;
  const deferred = new Set<number>();
  const countsSince = new Map<number, Map<string, number>>();
  for (const [rep, repItems] of capped) {
    const mine = prefs.get(rep) as RepPreferences;
    const calendar = repCalendar(mine, options.team);
    const today = calendar.dayNumber(options.now);
    const since = calendar.startOfDay(today);
    let counts = countsSince.get(since);
    if (counts === undefined) {
      counts = await deliveredSinceByOwner(store, since);
      countsSince.set(since, counts);
    }
    const cap = personalCap(mine, options.teamCap);
    const budget = applyNudgeBudget(repItems, counts, cap);
    if (budget.deferred.length === 0) continue;
    const tomorrow = calendar.startOfDay(today + 1);
    await rescheduleOutboxItems(
      store.db,
      budget.deferred.map((i) => i.outboxId),
      tomorrow,
      `personal cap: <@${rep}> takes ${cap} a day; waits until ${localText(calendar, tomorrow)}`,
    );
    for (const item of budget.deferred) deferred.add(item.outboxId);
    result.capped += budget.deferred.length;
  }
  return items.filter((i) => !deferred.has(i.outboxId));
}

/**
 * An escalation DMed to a person waits for the end of their quiet time, like a nudge
 * (a lead's evening is theirs too). Undefined: send now.
 */
export async function quietHoldFor(store: Store, user: string, now: number, team: Calendar): Promise<{ until: number; why: string } | undefined> {
  const mine = (await preferencesOf(store, [user])).get(user);
  if (mine === undefined) return undefined;
  const calendar = repCalendar(mine, team);
  if (!isQuietAt(mine, calendar, now)) return undefined;
  const until = quietEndsAt(mine, calendar, now);
  return { until, why: `quiet hours of <@${user}> (${calendar.timeZone}): held until ${localText(calendar, until)}` };
}
