import { periodFromDates, type StatsPeriod, UserError } from "@keepwarm/core";
import { knownSegments, type Store } from "@keepwarm/store";
import type { Context } from "../context";

/** --since / --until / --segment → a validated period (stats and report alike); bad input is one line, nothing else happens. */
export async function resolvePeriod(
  store: Store,
  ctx: Context,
  values: { since?: string | undefined; until?: string | undefined; segment?: string | undefined },
): Promise<StatsPeriod> {
  const { since, until } = periodFromDates(values, Date.now(), ctx.calendar);
  const segment = values.segment?.trim();
  if (segment !== undefined) {
    const known = await knownSegments(store.db);
    if (!known.includes(segment)) {
      throw new UserError(`unknown segment "${segment}"; ${known.length === 0 ? "no customer has a segment" : `segments: ${known.join(", ")}`}`);
    }
  }
  return { since, until, calendar: ctx.calendar, segment };
}
