import type { Store } from "@keepwarm/store";
import { customerHealth, summariseHealth } from "../health";
import { calibrateHealth } from "../health-calibration";
import { getActiveRuleSet } from "../rule-sets";
import { computeStats } from "../stats/index";
import { periodEndOf, type StatsPeriod } from "../stats/period";
import { quietSeries } from "../stats/touch-cadence";
import { type ReportData, renderReportHtml } from "./html";

/** Week ends from `since` to `until`: `until` itself, then the end of every 7th calendar day before it (at most 104). */
export function weekEnds(period: Pick<StatsPeriod, "since" | "until" | "calendar">): number[] {
  const { since, until, calendar } = period;
  const ends = [until];
  for (let day = calendar.dayNumber(until) - 7; ends.length < 104; day -= 7) {
    const end = periodEndOf(calendar, day);
    if (end <= since) break;
    ends.unshift(end);
  }
  return ends;
}

export interface ReportOptions {
  /** Check the health score against churn (`keepwarm report --calibrate`): replays this many days of history up to the period's end. */
  calibrateDays?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function buildReportData(store: Store, period: StatsPeriod, generatedAt = Date.now(), options: ReportOptions = {}): Promise<ReportData> {
  const stats = await computeStats(store, period);
  const quietWeekly = (await quietSeries(store, period, weekEnds(period))).map((q) => ({
    label: period.calendar.isoDate(q.at),
    quiet: q.quiet,
    customers: q.customers,
  }));
  // The active rules' health score at the end of the period, when they define one.
  const active = await getActiveRuleSet(store);
  const scores = active === undefined ? undefined : await customerHealth(store, active.ruleFile, { now: period.until, calendar: period.calendar });
  const inSegment = scores?.filter((h) => period.segment === undefined || h.segment === period.segment);
  const health = inSegment === undefined ? undefined : summariseHealth(inSegment);
  const calibration =
    options.calibrateDays === undefined || active?.ruleFile.health === undefined
      ? undefined
      : await calibrateHealth(store, active.ruleFile, {
          calendar: period.calendar,
          days: options.calibrateDays,
          now: period.until,
          ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        });
  return {
    stats,
    quietWeekly,
    generatedAt,
    timeZone: period.calendar.timeZone,
    ...(health === undefined ? {} : { health }),
    ...(calibration === undefined ? {} : { calibration }),
  };
}

export async function buildReportHtml(store: Store, period: StatsPeriod, generatedAt = Date.now(), options: ReportOptions = {}): Promise<string> {
  return renderReportHtml(await buildReportData(store, period, generatedAt, options));
}
