import { UserError } from "../errors";

/**
 * Dates as CRM exports write them. Only the reading of day-first and month-first
 * dates lives here; what an ISO 8601 date means (UTC, time zones) is parseIsoInstant's.
 */
export const DATE_FORMATS = ["iso", "day-first", "month-first"] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

/** D/M/YYYY, D.M.YYYY or D-M-YYYY (or M/D/YYYY), optionally with a time and AM/PM. */
const NUMERIC_DATE = /^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * A date cell as ISO 8601 text for parseIsoInstant, or why it cannot be read. Text
 * that is not a numeric day/month date (an ISO date, an empty cell, anything else) is
 * returned unchanged for the ISO parser to judge. With `iso`, a day/month date is
 * refused with the option to pass: 03/04/2026 is 3 April or March 4, and keepwarm
 * never guesses which.
 */
export function readDate(text: string, format: DateFormat): { iso: string } | { error: string } {
  const value = text.trim();
  const match = NUMERIC_DATE.exec(value);
  if (match === null) return { iso: text };
  const [first, second, year] = [Number(match[1]), Number(match[3]), match[4] as string];
  if (format === "iso") {
    const hint =
      first > 12 && second <= 12
        ? "it looks day-first: pass --date-format day-first"
        : second > 12 && first <= 12
          ? "it looks month-first: pass --date-format month-first"
          : `it could be day-first or month-first: pass --date-format day-first or month-first`;
    return { error: `"${value}" is not an ISO 8601 date (YYYY-MM-DD); ${hint}` };
  }
  if (year.length === 2) return { error: `"${value}" has a two-digit year; write the year in full` };
  const [day, month] = format === "day-first" ? [first, second] : [second, first];
  if (month > 12) {
    return { error: `"${value}" is not a ${format} date (month ${month}); is the file ${format === "day-first" ? "month-first" : "day-first"}?` };
  }
  const calendar = new Date(Date.UTC(Number(year), month - 1, day));
  if (month < 1 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return { error: `"${value}" is not a real ${format} date` };
  let date = `${year}-${pad(month)}-${pad(day)}`;
  if (match[5] !== undefined) {
    let hour = Number(match[5]);
    const meridiem = match[8]?.toLowerCase();
    if (meridiem !== undefined) {
      if (hour < 1 || hour > 12) return { error: `"${value}" has hour ${hour} with ${meridiem.toUpperCase()}` };
      hour = (hour % 12) + (meridiem === "pm" ? 12 : 0);
    }
    if (hour > 23 || Number(match[6]) > 59 || Number(match[7] ?? 0) > 59) return { error: `"${value}" has no such time of day` };
    date += `T${pad(hour)}:${match[6]}:${match[7] ?? "00"}`;
  }
  return { iso: date };
}

/** The --date-format option's value, checked. */
export function parseDateFormat(text: string | undefined): DateFormat {
  if (text === undefined) return "iso";
  if ((DATE_FORMATS as readonly string[]).includes(text)) return text as DateFormat;
  throw new UserError(`--date-format must be one of ${DATE_FORMATS.join(", ")}; got "${text}"`);
}
