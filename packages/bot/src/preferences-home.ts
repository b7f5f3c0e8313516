import { ensureActiveRuleSet, preferencesList, type RepPreferences, rememberTimeZone, TIME_ZONE_TTL_MS } from "@keepwarm/core";
import type { Rule } from "@keepwarm/rules";
import { repPreferencesRows } from "@keepwarm/store";
import type { types, webApi } from "@slack/bolt";
import { ownPreferencesBlocks, teamPreferencesBlocks } from "./blocks/preferences";
import type { BotDeps } from "./deps";
import { viewerOf } from "./security/access";

/**
 * The user's time zone from Slack (users.info `tz`), asked at most once a day per user
 * and kept with their preferences; delivery reads the kept one and never calls Slack for it.
 * If Slack does not answer, the last known zone (or KEEPWARM_TZ) stays.
 */
export async function refreshTimeZone(client: webApi.WebClient, deps: BotDeps, userId: string, known: RepPreferences): Promise<RepPreferences> {
  const now = deps.now();
  const [row] = await repPreferencesRows(deps.store.db, [userId]);
  if (row?.time_zone_at != null && now - Number(row.time_zone_at) < TIME_ZONE_TTL_MS) return known;
  try {
    const answer = await client.users.info({ user: userId });
    const tz = (answer.user as { tz?: unknown } | undefined)?.tz;
    if (typeof tz === "string" && (await rememberTimeZone(deps.store, userId, tz, now))) return { ...known, timeZone: tz };
  } catch (error) {
    deps.logger.warn(`users.info for ${userId} failed: ${(error as Error).message}; keeping ${known.timeZone ?? "KEEPWARM_TZ"}`);
  }
  return known;
}

/** The user's own preferences (time zone refreshed) and the active rules, as the form and the Home need them. */
export async function ownPreferences(client: webApi.WebClient, deps: BotDeps, userId: string): Promise<{ prefs: RepPreferences; rules: Rule[] }> {
  const [stored] = await preferencesList(deps.store, [userId]);
  const prefs = await refreshTimeZone(client, deps, userId, stored as RepPreferences);
  return { prefs, rules: (await ensureActiveRuleSet(deps.store)).ruleFile.rules };
}

/**
 * The App Home's preference sections: the user's own, with the button to change them;
 * for a lead, each rep they lead (KEEPWARM_MANAGERS), read-only; for an admin, every rep
 * who set any. Nobody else sees another rep's preferences.
 */
export async function preferenceBlocks(client: webApi.WebClient, deps: BotDeps, userId: string): Promise<types.KnownBlock[]> {
  const teamCap = deps.env.KEEPWARM_MAX_NUDGES_PER_DAY;
  const { prefs, rules } = await ownPreferences(client, deps, userId);
  const blocks = ownPreferencesBlocks(prefs, rules, teamCap);
  const viewer = viewerOf(deps.env, userId);
  if (!viewer.lead && !viewer.admin) return blocks;
  const led = [...viewer.owners].filter((id) => id !== userId);
  const others = viewer.admin ? (await repPreferencesRows(deps.store.db)).map((r) => r.slack_id).filter((id) => id !== userId && !led.includes(id)) : [];
  const team = await preferencesList(deps.store, [...led.sort(), ...others]);
  return [...blocks, ...teamPreferencesBlocks(team, rules, teamCap, viewer.admin)];
}
