import { parseIsoInstant, type StatsPeriod, UserError } from "@keepwarm/core";
import { DAY_MS, knownSegments, type Store } from "@keepwarm/store";
import type { Context } from "../context";

/** --since / --until / --segment → a validated period; bad input is one line, nothing else happens. */
export async function resolvePeriod(
  store: Store,
  ctx: Context,
  values: { since?: string | undefined; until?: string | undefined; segment?: string | undefined },
  defaultDays: number,
): Promise<StatsPeriod> {
  const instant = (flag: string, text: string) => {
    const at = parseIsoInstant(text, ctx.calendar);
    if (at === undefined) throw new UserError(`--${flag} "${text}" is not a date (YYYY-MM-DD)`);
    return at;
  };
  const until = values.until === undefined ? Date.now() : instant("until", values.until);
  const since = values.since === undefined ? until - defaultDays * DAY_MS : instant("since", values.since);
  if (since >= until) throw new UserError(`--since must be before ${values.until === undefined ? "now" : "--until"}`);
  const segment = values.segment?.trim();
  if (segment !== undefined) {
    const known = await knownSegments(store.db);
    if (!known.includes(segment)) {
      throw new UserError(`unknown segment "${segment}"; ${known.length === 0 ? "no customer has a segment" : `segments: ${known.join(", ")}`}`);
    }
  }
  return { since, until, calendar: ctx.calendar, segment };
}
