import { Calendar } from "@keepwarm/rules";
import { type CooldownUntil, DAY_MS } from "@keepwarm/store";

/** A bare date: a calendar day, read in KEEPWARM_TZ. */
export const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * ISO 8601 → epoch ms, or undefined when the text is not a real date.
 * A date-time without an offset is UTC (SPEC); a bare date is that calendar day,
 * which is midnight UTC unless a calendar for KEEPWARM_TZ is given.
 */
export function parseIsoInstant(text: string, calendar?: Calendar): number | undefined {
  const value = text.trim();
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const [y, m, d] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    if (!validDate(y, m, d)) return undefined;
    const utcMidnight = Date.UTC(y, m - 1, d);
    return calendar === undefined ? utcMidnight : calendar.startOfDay(utcMidnight / DAY_MS);
  }
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Number((match[7] ?? "0").padEnd(3, "0").slice(0, 3));
  let instant = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const offset = match[8];
  if (offset !== undefined && offset.toUpperCase() !== "Z") {
    const sign = offset.startsWith("-") ? -1 : 1;
    const digits = offset.slice(1).replace(":", "");
    instant -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return instant;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const UTC = new Calendar("UTC");

/**
 * Days a person counts (a snooze of 3 days, a cooldown of 14) are calendar days in
 * KEEPWARM_TZ: the same wall-clock time that many days later, 23 or 25 hours for a day
 * that crosses a DST change. Without a calendar: UTC.
 */
export const calendarDaysLater = (now: number, days: number, calendar: Calendar = UTC): number => calendar.addDays(now, days);

/** The cooldown end of nudges closed at `now`, per cooldown length, for the store's closing UPDATEs. */
export const cooldownUntil =
  (now: number, calendar: Calendar = UTC): CooldownUntil =>
  (days) =>
    calendar.addDays(now, days);
