import { DAY_MS, ownerNames, type Store, touchesBetween } from "@keepwarm/store";
import { periodDays, round1, type StatsPeriod, statsWindow } from "./period";

export interface RepActivity {
  /** logged_by of the touch; "(not recorded)" when the import had none. */
  rep: string;
  /** The rep's name from the owner directory (`keepwarm owners sync`); the rep as recorded when it has none. */
  name: string;
  touches: number;
  /** touches / weeks in the period (period length in days ÷ 7), one decimal. */
  perWeek: number;
  /** Touches per calendar week starting Monday (KEEPWARM_TZ), keyed by the Monday's date. */
  weeks: Record<string, number>;
}

export interface RepActivityStats {
  weeksInPeriod: number;
  reps: RepActivity[];
}

export const UNKNOWN_REP = "(not recorded)";

/** Monday (YYYY-MM-DD, KEEPWARM_TZ) of the week holding `ms`. */
export function weekOf(ms: number, calendar: StatsPeriod["calendar"]): string {
  const day = calendar.dayNumber(ms);
  // Day 0 (1970-01-01) was a Thursday: shift so Monday is 0.
  const monday = day - ((day + 3) % 7);
  return new Date(monday * DAY_MS).toISOString().slice(0, 10);
}

/** Touches per rep per week, over touches that happened in (since, until]. */
export async function repActivityStats(store: Store, period: StatsPeriod): Promise<RepActivityStats> {
  const touches = await touchesBetween(store.db, statsWindow(period));
  const weeksInPeriod = periodDays(period) / 7;
  const byRep = new Map<string, Record<string, number>>();
  for (const t of touches) {
    const rep = t.loggedBy ?? UNKNOWN_REP;
    const weeks = byRep.get(rep) ?? {};
    const week = weekOf(t.at, period.calendar);
    weeks[week] = (weeks[week] ?? 0) + 1;
    byRep.set(rep, weeks);
  }
  const names = await ownerNames(store.db, [...byRep.keys()]);
  const reps = [...byRep].map(([rep, weeks]) => {
    const touches = Object.values(weeks).reduce((a, b) => a + b, 0);
    return { rep, name: names.get(rep) ?? rep, touches, perWeek: round1(touches / weeksInPeriod), weeks: Object.fromEntries(Object.entries(weeks).sort()) };
  });
  reps.sort((a, b) => b.touches - a.touches || a.rep.localeCompare(b.rep));
  return { weeksInPeriod: round1(weeksInPeriod), reps };
}
