import { Calendar } from "@keepwarm/rules";
import { cacheRepTimeZone, repPreferencesRows, saveRepPreferences, type Store } from "@keepwarm/store";
import { ensureActiveRuleSet } from "../rule-sets";
import { preferencesOf } from "./personal-delivery";
import { defaultPreferences, type PreferenceErrors, preferencesFromRow, type PreferencesInput, type RepPreferences, validatePreferences } from "./preferences";

/** Validate a rep's choices against the active rules and the team's cap, and save them; nothing is written when any field is wrong. */
export async function savePreferences(
  store: Store,
  slackId: string,
  input: PreferencesInput,
  context: { teamCap: number; now: number; by: string | null },
): Promise<{ ok: true; preferences: RepPreferences } | { ok: false; errors: PreferenceErrors }> {
  const rules = (await ensureActiveRuleSet(store)).ruleFile.rules;
  const checked = validatePreferences(slackId, input, { rules, ...context });
  if (!checked.ok) return checked;
  await saveRepPreferences(store.db, checked.write);
  return { ok: true, preferences: (await preferencesOf(store, [slackId])).get(slackId) ?? defaultPreferences(slackId) };
}

/** These reps' preferences, the defaults for those who never set any, in the order given. */
export async function preferencesList(store: Store, slackIds: readonly string[]): Promise<RepPreferences[]> {
  const stored = await preferencesOf(store, slackIds);
  return slackIds.map((id) => stored.get(id) ?? defaultPreferences(id));
}

/** How long a time zone from users.info is trusted before the App Home asks Slack again. */
export const TIME_ZONE_TTL_MS = 24 * 3_600_000;

/** Keep the zone Slack reported for a rep; an unknown zone name is ignored (the team's applies). */
export async function rememberTimeZone(store: Store, slackId: string, timeZone: string, now: number): Promise<boolean> {
  try {
    Calendar.assertValidZone(timeZone);
  } catch {
    return false;
  }
  await cacheRepTimeZone(store.db, slackId, timeZone, now);
  return true;
}

/** Every rep who has preferences stored (or a cached time zone), by Slack id. */
export async function storedPreferences(store: Store): Promise<RepPreferences[]> {
  return (await repPreferencesRows(store.db)).map(preferencesFromRow);
}
