import type { Calendar } from "@keepwarm/rules";

/** "2026-06-15 09:30" in KEEPWARM_TZ. */
export function localTime(ms: number, calendar: Calendar): string {
  return new Date(ms + calendar.offsetMs(ms)).toISOString().slice(0, 16).replace("T", " ");
}

/** When the worker sweeps next, for its start line: "2026-06-15 09:00 Europe/Paris". */
export function nextSweepText(next: Date | undefined, calendar: Calendar): string {
  return next === undefined ? "no next sweep (the schedule never fires again)" : `next sweep ${localTime(next.getTime(), calendar)} ${calendar.timeZone}`;
}
