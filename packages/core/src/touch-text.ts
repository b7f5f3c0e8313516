import type { Calendar } from "@keepwarm/rules";
import type { Customer, Store, TouchKind } from "@keepwarm/store";
import { customerLookups, DAY_MS, TOUCH_KINDS } from "@keepwarm/store";
import { lookupCustomer } from "./customers";
import { parseIsoInstant } from "./dates";

export type TouchTextResult =
  | { ok: true; customer: Customer; kind: TouchKind; occurredAt: number; note: string | null; kindGiven: boolean }
  | { ok: false; error: "empty" }
  | { ok: false; error: "ambiguous"; query: string; candidates: Customer[]; rest: string }
  | { ok: false; error: "not_found"; query: string; suggestions: Customer[] }
  | { ok: false; error: "bad_date" | "future_date" | "too_long"; message: string };

export const MAX_TOUCH_TEXT = 3000;

/** One word or "quoted phrase"; `raw` is how it was written, which is what a note keeps. */
export interface TouchToken {
  text: string;
  quoted: boolean;
  raw: string;
  /** The whitespace written before it (a note keeps its line breaks); one space when unknown. */
  before?: string;
}

/** Words, keeping "quoted phrases" whole. */
export function tokenize(text: string): TouchToken[] {
  const tokens: TouchToken[] = [];
  const pattern = /"([^"]*)"|“([^”]*)”|(\S+)/g;
  let end = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const before = text.slice(end, m.index);
    end = m.index + m[0].length;
    if (m[3] !== undefined) tokens.push({ text: m[3], quoted: false, raw: m[0], before });
    else tokens.push({ text: (m[1] ?? m[2] ?? "").trim(), quoted: true, raw: m[0], before });
  }
  return tokens;
}

/**
 * Tokens from a command line the shell already split: an argument holding spaces was
 * quoted by the user, and every argument is kept verbatim (its quotes are its own).
 */
export function tokensFromArgs(args: readonly string[]): TouchToken[] {
  return args.filter((arg) => arg.trim() !== "").map((arg) => ({ text: arg.trim(), quoted: /\s/.test(arg.trim()), raw: arg.trim() }));
}

const isKind = (word: string): word is TouchKind => (TOUCH_KINDS as readonly string[]).includes(word.toLowerCase());
const DATE_WORD = /^(today|yesterday|\d{4}-\d{2}-\d{2}(T\S+)?)$/i;

/** today, yesterday or an ISO date, in the keepwarm time zone; undefined when not a date. */
export function parseTouchDate(word: string, now: number, calendar: Calendar): number | "invalid" | undefined {
  const lower = word.toLowerCase();
  if (lower === "today") return now;
  if (lower === "yesterday") return calendar.startOfDay(calendar.dayNumber(now) - 1) + DAY_MS / 2;
  if (!DATE_WORD.test(word)) return undefined;
  const parsed = parseIsoInstant(word, calendar);
  if (parsed === undefined) return "invalid";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(word)) return parsed;
  // A bare date means that day; midday keeps it on the same calendar day in any zone.
  // Only today's midday is capped at now: a later day must stay in the future to be rejected.
  const midday = parsed + DAY_MS / 2;
  return calendar.dayNumber(parsed) === calendar.dayNumber(now) ? Math.min(midday, now) : midday;
}

/**
 * `<customer> [kind] [date] [note…]`, e.g. `Acme Corp call yesterday renewal looks safe`.
 * The customer is the longest run of leading words naming one exactly (id or name,
 * any case); otherwise the words before the first kind or date word, matched by
 * unique prefix.
 */
export async function parseTouchText(store: Store, text: string, now: number, calendar: Calendar): Promise<TouchTextResult> {
  if (text.length > MAX_TOUCH_TEXT)
    return { ok: false, error: "too_long", message: `that is too long (${text.length} characters); keep a touch under ${MAX_TOUCH_TEXT}` };
  return parseTouchTokens(store, tokenize(text.trim()), now, calendar);
}

/** parseTouchText on tokens already split (the CLI's arguments). */
export async function parseTouchTokens(store: Store, tokens: readonly TouchToken[], now: number, calendar: Calendar): Promise<TouchTextResult> {
  const length = restText(tokens, 0).length;
  if (length > MAX_TOUCH_TEXT)
    return { ok: false, error: "too_long", message: `that is too long (${length} characters); keep a touch under ${MAX_TOUCH_TEXT}` };
  if (tokens.length === 0) return { ok: false, error: "empty" };
  let customer: Customer | undefined;
  let used = 0;
  if (tokens[0]?.quoted) {
    const lookup = await lookupCustomer(store, tokens[0].text);
    if (lookup.kind === "found") {
      customer = lookup.customer;
      used = 1;
    } else if (lookup.kind === "ambiguous") {
      return { ok: false, error: "ambiguous", query: tokens[0].text, candidates: lookup.candidates, rest: restText(tokens, 1) };
    } else {
      return { ok: false, error: "not_found", query: tokens[0].text, suggestions: lookup.suggestions };
    }
  } else {
    // Longest exact match first, so "Call Center Inc call" finds the customer "Call Center Inc".
    const runs: Array<{ k: number; text: string }> = [];
    for (let k = Math.min(tokens.length, 12); k >= 1; k--) {
      const text = tokens
        .slice(0, k)
        .map((t) => t.text)
        .join(" ")
        .trim();
      if (text !== "") runs.push({ k, text });
    }
    const found = await customerLookups(store).namedByFirstOf(runs.map((run) => run.text));
    if (found !== undefined) {
      customer = found.customer;
      used = runs.find((run) => run.text === found.text)?.k ?? 0;
    }
    if (customer === undefined) {
      let end = tokens.findIndex((t, i) => i > 0 && (isKind(t.text) || DATE_WORD.test(t.text)));
      if (end === -1) end = tokens.length;
      // Without a kind or date to stop at, try shorter prefixes: the rest may be the note.
      for (let k = end; k >= 1; k--) {
        const query = tokens
          .slice(0, k)
          .map((t) => t.text)
          .join(" ");
        const lookup = await lookupCustomer(store, query);
        if (lookup.kind === "found") {
          customer = lookup.customer;
          used = k;
          break;
        }
        if (lookup.kind === "ambiguous") return { ok: false, error: "ambiguous", query, candidates: lookup.candidates, rest: restText(tokens, k) };
        if (k === 1 || end !== tokens.length) {
          const full = tokens
            .slice(0, end)
            .map((t) => t.text)
            .join(" ");
          const retry = k === end ? lookup : await lookupCustomer(store, full);
          return { ok: false, error: "not_found", query: full, suggestions: retry.kind === "none" ? retry.suggestions : [] };
        }
      }
    }
  }
  if (customer === undefined) return { ok: false, error: "not_found", query: restText(tokens, 0), suggestions: [] };
  return finish(customer, tokens.slice(used), now, calendar);
}

/** The tokens from `from` on, as written: their own spacing and line breaks between them. */
function restText(tokens: readonly TouchToken[], from: number): string {
  return tokens
    .slice(from)
    .map((t, i) => (i === 0 ? t.raw : `${(t.before ?? "").replace(/[^\n]/g, "") || " "}${t.raw}`))
    .join("");
}

/** Parse `[kind] [date] [note…]` after a customer has been chosen (also used after a disambiguation button). */
export function finishTouchText(customer: Customer, rest: string, now: number, calendar: Calendar): TouchTextResult {
  return finish(customer, tokenize(rest.trim()), now, calendar);
}

function finish(customer: Customer, rest: readonly TouchToken[], now: number, calendar: Calendar): TouchTextResult {
  let index = 0;
  let kind: TouchKind = "other";
  let kindGiven = false;
  let occurredAt = now;
  const first = rest[index];
  if (first !== undefined && !first.quoted && isKind(first.text)) {
    kind = first.text.toLowerCase() as TouchKind;
    kindGiven = true;
    index++;
  }
  const maybeDate = rest[index];
  if (maybeDate !== undefined && !maybeDate.quoted) {
    const date = parseTouchDate(maybeDate.text, now, calendar);
    if (date === "invalid") return { ok: false, error: "bad_date", message: `"${maybeDate.text}" is not a date: use today, yesterday or YYYY-MM-DD` };
    if (date !== undefined) {
      if (date > now + 5 * 60_000) return { ok: false, error: "future_date", message: `${maybeDate.text} is in the future: log touches that happened` };
      occurredAt = date;
      index++;
    }
  }
  const note = restText(rest, index).trim();
  return { ok: true, customer, kind, kindGiven, occurredAt, note: note === "" ? null : note };
}
