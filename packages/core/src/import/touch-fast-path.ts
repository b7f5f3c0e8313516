import type { Calendar } from "@keepwarm/rules";
import { TOUCH_KINDS } from "@keepwarm/store";
import { parseIsoInstant } from "../dates";

/**
 * The touches row, checked without zod. `touchRow` (row-parsers.ts) stays the
 * definition: this returns exactly what it would produce, or undefined whenever a
 * check fails or the input is unusual, and the caller then asks zod (for its message,
 * or for the value in a case the fast path does not cover). Proven equal on random
 * and tricky rows in test/import-fast-path.test.ts.
 */
export interface TouchValues {
  customerId: string;
  occurredAt: number;
  kind: string;
  note: string | null;
  loggedBy: string | null;
  externalId: string | null;
}

/** Column positions in the file; -1 for an optional column the file does not have. */
export interface TouchColumns {
  customerId: number;
  occurredAt: number;
  kind: number;
  note: number;
  loggedBy: number;
  externalId: number;
}

/** The kind a cell names exactly ("" is other), or undefined. Compared, not looked up in a Map: a cell is a new string, which a Map must hash first. */
function kindOf(text: string): string | undefined {
  if (text === "") return "other";
  for (const kind of TOUCH_KINDS) if (text === kind) return kind;
  return undefined;
}

/**
 * `text.trim()`, without the call when both ends are printable ASCII (never whitespace),
 * as nearly every cell is: three or four calls per row otherwise.
 */
function trimmed(text: string): string {
  const length = text.length;
  if (length === 0) return text;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? text : text.trim();
}

export function fastTouch(fields: readonly string[], columns: TouchColumns, calendar: Calendar): TouchValues | undefined {
  const rawCustomer = fields[columns.customerId] as string;
  if (rawCustomer.length > 200) return undefined;
  const customerId = trimmed(rawCustomer);
  if (customerId === "") return undefined;
  const occurredAt = fastInstant(fields[columns.occurredAt] as string, calendar);
  if (occurredAt === undefined) return undefined;
  let kind = "other";
  if (columns.kind >= 0) {
    const raw = fields[columns.kind] as string;
    const known = kindOf(raw) ?? kindOf(raw.trim().toLowerCase());
    if (known === undefined) return undefined;
    kind = known;
  }
  let note: string | null = null;
  if (columns.note >= 0) {
    const raw = fields[columns.note] as string;
    if (raw.length > 4000) return undefined;
    const text = trimmed(raw);
    note = text === "" ? null : text;
  }
  let loggedBy: string | null = null;
  if (columns.loggedBy >= 0) {
    const raw = fields[columns.loggedBy] as string;
    if (raw.length > 200) return undefined;
    const text = trimmed(raw);
    loggedBy = text === "" ? null : text;
  }
  let externalId: string | null = null;
  if (columns.externalId >= 0) {
    const raw = fields[columns.externalId] as string;
    if (raw.length > 200) return undefined;
    const text = trimmed(raw);
    externalId = text === "" ? null : text;
  }
  return { customerId, occurredAt, kind, note, loggedBy, externalId };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;
const two = (text: string, at: number): number => {
  const a = digit(text, at);
  const b = digit(text, at + 1);
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * `parseIsoInstant` for the shape exports use, `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, read
 * digit by digit (no regex, no Date object to validate the day); anything else goes to
 * `parseIsoInstant` itself, so the answer is always the same.
 */
export function fastInstant(text: string, calendar: Calendar): number | undefined {
  const length = text.length;
  if (
    (length === 20 || (length === 24 && text.charCodeAt(19) === 46)) &&
    text.charCodeAt(length - 1) === 90 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58
  ) {
    const century = two(text, 0);
    const yy = two(text, 2);
    const month = two(text, 5);
    const day = two(text, 8);
    const hour = two(text, 11);
    const minute = two(text, 14);
    const second = two(text, 17);
    const tenths = length === 24 ? digit(text, 20) : 0;
    const hundredths = length === 24 ? two(text, 21) : 0;
    const ms = tenths >= 0 && tenths <= 9 && hundredths >= 0 ? tenths * 100 + hundredths : -1;
    const year = century * 100 + yy;
    // Years before 1900 take the slow path: Date.UTC reads 0–99 as 1900–1999.
    if (
      century >= 19 &&
      yy >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
      if (day <= (DAYS_IN_MONTH[month - 1] as number) + leap)
        return ((daysFromEpoch(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
    }
  }
  return parseIsoInstant(text, calendar);
}

/**
 * Days from 1970-01-01 to a valid proleptic Gregorian date (year ≥ 1900), as Date.UTC
 * counts them: arithmetic instead of a call into C++ per row (H. Hinnant's days_from_civil).
 */
export function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}
