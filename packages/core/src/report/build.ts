import type { Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";
import { computeStats } from "../stats/index";
import type { StatsPeriod } from "../stats/period";
import { quietSeries } from "../stats/touch-cadence";
import { type ReportData, renderReportHtml } from "./html";

/** Week ends from `since` to `until`, the last one being `until` itself (at most 104). */
export function weekEnds(since: number, until: number): number[] {
  const ends: number[] = [];
  for (let at = until; at > since && ends.length < 104; at -= 7 * DAY_MS) ends.unshift(at);
  return ends;
}

export async function buildReportData(store: Store, period: StatsPeriod, generatedAt = Date.now()): Promise<ReportData> {
  const stats = await computeStats(store, period);
  const quietWeekly = (await quietSeries(store, period, weekEnds(period.since, period.until))).map((q) => ({
    label: period.calendar.isoDate(q.at),
    quiet: q.quiet,
    customers: q.customers,
  }));
  return { stats, quietWeekly, generatedAt, timeZone: period.calendar.timeZone };
}

export async function buildReportHtml(store: Store, period: StatsPeriod, generatedAt = Date.now()): Promise<string> {
  return renderReportHtml(await buildReportData(store, period, generatedAt));
}
