import { Calendar, type Rule } from "@keepwarm/rules";
import { DAY_MS, type RepPreferencesRow, type RepPreferencesWrite } from "@keepwarm/store";

/** How a rep wants one rule's nudges: by DM as they come, in the daily digest, or not at all (only where the rule allows it). */
export const RULE_MODES = ["dm", "digest", "off"] as const;
export type RuleMode = (typeof RULE_MODES)[number];

/** ISO weekdays: 1 = Monday … 7 = Sunday. */
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export const DEFAULT_DIGEST_HOUR = 9;

export interface RepPreferences {
  slackId: string;
  /** Rules not listed are "dm". */
  ruleModes: Record<string, RuleMode>;
  /** Whole local hours; start > end runs past midnight (22 → 7). */
  quietHours: { start: number; end: number } | null;
  quietDays: number[];
  /** Nudges by DM per local day; null = the team's KEEPWARM_MAX_NUDGES_PER_DAY. */
  dailyCap: number | null;
  digestHour: number;
  /** From Slack's users.info, cached; null until Slack answered. */
  timeZone: string | null;
  updatedAt: number;
  updatedBy: string | null;
}

/** The rep's choices as a form or the CLI gives them, before validation. */
export interface PreferencesInput {
  ruleModes: Record<string, string>;
  quietStart: number | null;
  quietEnd: number | null;
  quietDays: number[];
  dailyCap: number | null;
  digestHour: number;
}

/** Errors by field: "quiet_start", "quiet_end", "quiet_days", "daily_cap", "digest_hour", "rule:<id>". */
export type PreferenceErrors = Record<string, string>;

export function defaultPreferences(slackId: string): RepPreferences {
  return {
    slackId,
    ruleModes: {},
    quietHours: null,
    quietDays: [],
    dailyCap: null,
    digestHour: DEFAULT_DIGEST_HOUR,
    timeZone: null,
    updatedAt: 0,
    updatedBy: null,
  };
}

export function preferencesFromRow(row: RepPreferencesRow): RepPreferences {
  let modes: Record<string, RuleMode> = {};
  try {
    const parsed = JSON.parse(row.rule_modes) as Record<string, unknown>;
    modes = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, RuleMode] => (RULE_MODES as readonly unknown[]).includes(e[1])));
  } catch {
    // Written by saveRepPreferences only; a damaged value falls back to DM for every rule.
  }
  return {
    slackId: row.slack_id,
    ruleModes: modes,
    quietHours: row.quiet_start === null || row.quiet_end === null ? null : { start: Number(row.quiet_start), end: Number(row.quiet_end) },
    quietDays: row.quiet_days === "" ? [] : row.quiet_days.split(",").map(Number),
    dailyCap: row.daily_cap === null ? null : Number(row.daily_cap),
    digestHour: Number(row.digest_hour),
    timeZone: row.time_zone,
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}

const isHour = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 23;

/** The rules a rep can choose for: enabled, sent to the owner (a channel's nudges are nobody's DM). */
export const personalRules = (rules: readonly Rule[]): Rule[] => rules.filter((r) => r.enabled && r.nudge.destination === "owner");

/**
 * Check what a rep submitted (a form can be forged: every value is checked here, not
 * only offered). `off` only for a rule with `allowMute`; quiet hours both or neither,
 * 0–23, start ≠ end; at least one day not quiet; the cap 0 … the team's cap.
 */
export function validatePreferences(
  slackId: string,
  input: PreferencesInput,
  context: { rules: readonly Rule[]; teamCap: number; now: number; by: string | null },
): { ok: true; write: RepPreferencesWrite } | { ok: false; errors: PreferenceErrors } {
  const errors: PreferenceErrors = {};
  const rules = new Map(personalRules(context.rules).map((r) => [r.id, r]));
  const modes: Record<string, RuleMode> = {};
  for (const [ruleId, mode] of Object.entries(input.ruleModes)) {
    const rule = rules.get(ruleId);
    if (rule === undefined) errors[`rule:${ruleId}`] = `"${ruleId}" is not an active rule sent by DM`;
    else if (!(RULE_MODES as readonly string[]).includes(mode)) errors[`rule:${ruleId}`] = `"${mode}" is not one of ${RULE_MODES.join(", ")}`;
    else if (mode === "off" && !rule.nudge.allowMute) errors[`rule:${ruleId}`] = `"${rule.name}" cannot be turned off: choose DM or digest`;
    else if (mode !== "dm") modes[ruleId] = mode as RuleMode;
  }
  const { quietStart: start, quietEnd: end } = input;
  if (start !== null && !isHour(start)) errors.quiet_start = "must be a whole hour 0–23";
  if (end !== null && !isHour(end)) errors.quiet_end = "must be a whole hour 0–23";
  if ((start === null) !== (end === null)) errors[start === null ? "quiet_start" : "quiet_end"] = "quiet hours need a start and an end (or neither)";
  else if (start !== null && start === end) errors.quiet_end = "must differ from the start (22:00 to 07:00 runs past midnight)";
  const days = [...new Set(input.quietDays)].sort((a, b) => a - b);
  if (days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) errors.quiet_days = "days are 1 (Monday) to 7 (Sunday)";
  else if (days.length === 7) errors.quiet_days = "leave at least one day that is not quiet";
  if (input.dailyCap !== null && (!Number.isInteger(input.dailyCap) || input.dailyCap < 0 || input.dailyCap > context.teamCap)) {
    errors.daily_cap = `must be a whole number from 0 to the team's ${context.teamCap}`;
  }
  if (!isHour(input.digestHour)) errors.digest_hour = "must be a whole hour 0–23";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    write: {
      slack_id: slackId,
      rule_modes: JSON.stringify(modes),
      quiet_start: start,
      quiet_end: end,
      quiet_days: days.join(","),
      daily_cap: input.dailyCap,
      digest_hour: input.digestHour,
      updated_at: context.now,
      updated_by: context.by,
    },
  };
}

const calendars = new Map<string, Calendar>();

/** The rep's calendar: their Slack time zone, else the team's (KEEPWARM_TZ). */
export function repCalendar(prefs: Pick<RepPreferences, "timeZone">, team: Calendar): Calendar {
  const zone = prefs.timeZone ?? team.timeZone;
  let calendar = calendars.get(zone);
  if (calendar === undefined) {
    try {
      calendar = new Calendar(zone);
    } catch {
      return team;
    }
    calendars.set(zone, calendar);
  }
  return calendar;
}

const HOUR_MS = 3_600_000;
/** Every zone's offset is a multiple of 15 minutes, so quiet time starts and ends on these steps. */
const STEP_MS = 15 * 60_000;

const localHour = (calendar: Calendar, t: number): number => Math.floor(((((t + calendar.offsetMs(t)) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
/** ISO weekday of the local day (day 0, 1970-01-01, was a Thursday). */
export const isoWeekday = (calendar: Calendar, t: number): number => ((((calendar.dayNumber(t) + 3) % 7) + 7) % 7) + 1;

/** Whether `t` falls in the rep's quiet hours or on a quiet day, in their time zone. */
export function isQuietAt(prefs: Pick<RepPreferences, "quietHours" | "quietDays">, calendar: Calendar, t: number): boolean {
  if (prefs.quietDays.includes(isoWeekday(calendar, t))) return true;
  if (prefs.quietHours === null) return false;
  const { start, end } = prefs.quietHours;
  const hour = localHour(calendar, t);
  return start < end ? hour >= start && hour < end : hour >= start || hour < end;
}

/**
 * When the quiet time around `t` ends: the first 15-minute step after `t` that is not
 * quiet. Walking the steps in UTC makes DST need no special case: a local 07:00 is
 * wherever the zone's offset puts it that day. Validation leaves a day not quiet, so
 * eight days always find the end.
 */
export function quietEndsAt(prefs: Pick<RepPreferences, "quietHours" | "quietDays">, calendar: Calendar, t: number): number {
  for (let step = Math.floor(t / STEP_MS) * STEP_MS + STEP_MS, limit = t + 8 * DAY_MS; step <= limit; step += STEP_MS) {
    if (!isQuietAt(prefs, calendar, step)) return step;
  }
  return t + DAY_MS;
}

/** The UTC instant of a local hour on a local day (the DST-safe way Calendar.startOfDay uses). */
function localInstant(calendar: Calendar, day: number, hour: number): number {
  const guess = day * DAY_MS + hour * HOUR_MS;
  return guess - calendar.offsetMs(guess - calendar.offsetMs(guess));
}

/** The rep's latest digest time at or before `now`, and the next one after it. */
export function digestTimes(prefs: Pick<RepPreferences, "digestHour">, calendar: Calendar, now: number): { last: number; next: number } {
  const today = calendar.dayNumber(now);
  const todays = localInstant(calendar, today, prefs.digestHour);
  return todays <= now
    ? { last: todays, next: localInstant(calendar, today + 1, prefs.digestHour) }
    : { last: localInstant(calendar, today - 1, prefs.digestHour), next: todays };
}

/** The rep's cap: their own when set, never above the team's. */
export const personalCap = (prefs: Pick<RepPreferences, "dailyCap">, teamCap: number): number => Math.min(prefs.dailyCap ?? teamCap, teamCap);

export type DmDecision = { kind: "send"; digest: boolean } | { kind: "hold"; until: number; why: string } | { kind: "mute" };

/**
 * What to do with a nudge about to be DMed to a rep, by their preferences at `now`:
 * - the rule is off for them (and the rule allows it): no DM, ever, for this nudge;
 * - quiet hours or a quiet day: held until the quiet time ends, then sent;
 * - the rule goes to the digest: held until the rep's next digest hour unless it was
 *   queued before the latest one (then it goes now, in the digest).
 * The mute is decided first, so a muted nudge is not held for nothing.
 */
export function decideDm(
  item: { ruleId: string; queuedAt: number },
  prefs: RepPreferences,
  context: { mutable: ReadonlySet<string>; team: Calendar; now: number },
): DmDecision {
  const mode = prefs.ruleModes[item.ruleId] ?? "dm";
  if (mode === "off" && context.mutable.has(item.ruleId)) return { kind: "mute" };
  const calendar = repCalendar(prefs, context.team);
  if (isQuietAt(prefs, calendar, context.now)) {
    const until = quietEndsAt(prefs, calendar, context.now);
    return { kind: "hold", until, why: `quiet hours of <@${prefs.slackId}> (${calendar.timeZone}): held until ${localText(calendar, until)}` };
  }
  if (mode === "digest") {
    const times = digestTimes(prefs, calendar, context.now);
    if (item.queuedAt >= times.last) {
      return { kind: "hold", until: times.next, why: `daily digest of <@${prefs.slackId}>: waits until ${localText(calendar, times.next)}` };
    }
    return { kind: "send", digest: true };
  }
  return { kind: "send", digest: false };
}

/** "2026-11-24 07:00 America/Los_Angeles". */
export function localText(calendar: Calendar, t: number): string {
  const local = new Date(t + calendar.offsetMs(t)).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} ${calendar.timeZone}`;
}

const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;

/** The preferences in one line, for a lead's App Home and the CLI. */
export function preferencesSummary(prefs: RepPreferences, rules: readonly Rule[], teamCap: number): string {
  const names = new Map(rules.map((r) => [r.id, r.name]));
  const byMode = (mode: RuleMode) =>
    Object.entries(prefs.ruleModes)
      .filter(([, m]) => m === mode)
      .map(([id]) => names.get(id) ?? id);
  const digest = byMode("digest");
  const off = byMode("off");
  const parts = [
    prefs.quietHours === null ? "no quiet hours" : `quiet ${hh(prefs.quietHours.start)}–${hh(prefs.quietHours.end)}`,
    prefs.quietDays.length === 0 ? "no quiet days" : `quiet on ${prefs.quietDays.map((d) => WEEKDAYS[d - 1]).join(", ")}`,
    `cap ${personalCap(prefs, teamCap)}/day${prefs.dailyCap === null ? " (the team's)" : ""}`,
    digest.length === 0 ? "no digest rules" : `digest at ${hh(prefs.digestHour)}: ${digest.join(", ")}`,
    off.length === 0 ? "nothing muted" : `off: ${off.join(", ")}`,
    `time zone ${prefs.timeZone ?? "not known yet (KEEPWARM_TZ)"}`,
  ];
  return parts.join(" · ");
}
