import { type Calendar, type FactProgram, frameInstant, type ProgramColumn } from "@keepwarm/rules";
import type { ScanColumn } from "@keepwarm/store";

/**
 * A program column at `now` as the store scans it: the aggregate's calendar-day window
 * (KEEPWARM_TZ) turned into instants. `[0, 29]` is from local midnight 29 days before
 * today's to `now`; `[90, 179]` from midnight 179 days back to the last millisecond of
 * the day 90 days back. A column N days back ends at the end of that day.
 */
export function resolveColumn(column: ProgramColumn, now: number, calendar: Calendar): ScanColumn {
  const at = frameInstant(now, calendar, column.daysAgo);
  const { of, op, kinds, nth, days } = column.aggregate;
  const day = calendar.dayNumber(at);
  const from = days === undefined ? undefined : calendar.startOfDay(day - days[1]);
  const to = days === undefined || days[0] === 0 ? at : calendar.startOfDay(day - days[0] + 1) - 1;
  return { name: column.name, of, op, kinds, nth, from, to };
}

export const scanColumns = (program: FactProgram, now: number, calendar: Calendar): ScanColumn[] =>
  program.columns.map((column) => resolveColumn(column, now, calendar));
