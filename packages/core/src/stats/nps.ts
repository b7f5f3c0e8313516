import { latestNpsScores, npsResponsesBetween, type Store } from "@keepwarm/store";
import { lastDays, round1, type StatsPeriod, statsWindow } from "./period";

export interface NpsScore {
  /** % promoters (9–10) − % detractors (0–6), one decimal; null without responses. */
  nps: number | null;
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
}

export interface NpsStats {
  /** Latest response per customer within the NPS_WINDOW_DAYS before `until`, customers not churned by then. */
  now: NpsScore;
  windowDays: number;
  /** Per calendar month (KEEPWARM_TZ) overlapping the period: each customer's latest response in that month. */
  byMonth: Array<{ month: string } & NpsScore>;
}

export const NPS_WINDOW_DAYS = 90;

export function npsScore(scores: readonly number[]): NpsScore {
  const promoters = scores.filter((s) => s >= 9).length;
  const detractors = scores.filter((s) => s <= 6).length;
  const responses = scores.length;
  return {
    nps: responses === 0 ? null : round1(((promoters - detractors) * 100) / responses),
    responses,
    promoters,
    passives: responses - promoters - detractors,
    detractors,
  };
}

export async function npsStats(store: Store, period: StatsPeriod): Promise<NpsStats> {
  const current = await latestNpsScores(store.db, {
    from: lastDays(NPS_WINDOW_DAYS, period.until, period.calendar).since,
    until: period.until,
    segment: period.segment ?? null,
  });
  // Responses of the period in time order: the last one seen per (customer, month) wins.
  const responses = await npsResponsesBetween(store.db, statsWindow(period));
  const months = new Map<string, Map<number, number>>();
  for (const month of monthsBetween(period)) months.set(month, new Map());
  for (const r of responses) months.get(period.calendar.isoDate(r.at).slice(0, 7))?.set(r.customerId, r.score);
  return {
    now: npsScore(current),
    windowDays: NPS_WINDOW_DAYS,
    byMonth: [...months].map(([month, latest]) => ({ month, ...npsScore([...latest.values()]) })),
  };
}

/** "YYYY-MM" of every calendar month that overlaps (since, until]. */
export function monthsBetween(period: Pick<StatsPeriod, "since" | "until" | "calendar">): string[] {
  const first = period.calendar.isoDate(period.since + 1).slice(0, 7);
  const last = period.calendar.isoDate(period.until).slice(0, 7);
  const months: string[] = [];
  let [y, m] = first.split("-").map(Number) as [number, number];
  for (let month = first; month <= last && months.length < 1200; ) {
    months.push(month);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
    month = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}`;
  }
  return months;
}
