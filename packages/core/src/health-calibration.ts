import { type Calendar, type FactInput, GRADES, type Grade, healthModel, readHealth, type RuleFile } from "@keepwarm/rules";
import { countCustomers, customersAfter, historiesInRange, type Store } from "@keepwarm/store";
import { UserError } from "./errors";
import { scanColumns } from "./facts/columns";
import { type CustomerHistory, emptyHistory, HistoryReplay } from "./facts/replay";
import { healthProgram } from "./health";
import { type AucSummary, ClusteredScores } from "./stats/auc";
import { wilsonInterval } from "./stats/significance";

/**
 * Does the health score predict churn? Replay history: at the end of every `everyDays`-th
 * past day, score every customer as the facts stood then (the backtest's machinery: each
 * customer's history read once, the fact aggregates replayed day by day), and look
 * `horizonDays` calendar days ahead: did they churn? Only days whose horizon has fully
 * passed are scored, so no customer is counted as "stayed" for lack of time.
 */
export const CALIBRATION_HORIZON_DAYS = 90;
export const CALIBRATION_MAX_DAYS = 730;

export interface CalibrationOptions {
  calendar: Calendar;
  /** Replay the last `days` days (the scored days are those at least horizonDays + 1 before today). */
  days: number;
  now?: number;
  horizonDays?: number;
  /** Score every N-th day (default 7: weekly snapshots). */
  everyDays?: number;
  /** Bootstrap resamples and seed of the AUC intervals. */
  resamples?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GradeCalibration {
  grade: Grade;
  /** Customer-snapshots with this grade. */
  observations: number;
  /** Of those, how many churned within the horizon. */
  churned: number;
  churnRate: number | null;
  /** Wilson 95 % interval of the churn rate (snapshots treated as independent). */
  interval: [number, number] | null;
}

export interface ComponentCalibration extends AucSummary {
  name: string;
  fact: string;
}

export interface CalibrationReport {
  /** First and last scored day (YYYY-MM-DD, KEEPWARM_TZ). */
  from: string;
  to: string;
  horizonDays: number;
  everyDays: number;
  snapshots: number;
  /** Customer-snapshots with a score. */
  observations: number;
  customers: number;
  churned: number;
  grades: GradeCalibration[];
  /** The score's AUC: low score → churn. */
  score: AucSummary;
  /** Each component's band score alone, highest AUC first: which components carry the signal. */
  components: ComponentCalibration[];
  resamples: number;
  seed: number;
}

export async function calibrateHealth(store: Store, ruleFile: RuleFile, options: CalibrationOptions): Promise<CalibrationReport> {
  if (ruleFile.health === undefined)
    throw new UserError('the rules have no "health" block: nothing to calibrate (see docs/rules.md, "Health score")', "no_health");
  const horizonDays = options.horizonDays ?? CALIBRATION_HORIZON_DAYS;
  const everyDays = options.everyDays ?? 7;
  const { calendar, days } = options;
  if (!Number.isInteger(days) || days <= horizonDays || days > CALIBRATION_MAX_DAYS) {
    throw new UserError(
      `--days must be a whole number from ${horizonDays + 1} to ${CALIBRATION_MAX_DAYS}: each scored day needs ${horizonDays} days after it`,
      "invalid_days",
    );
  }
  if (!Number.isInteger(everyDays) || everyDays < 1 || everyDays > 90)
    throw new UserError("--every must be a whole number of days from 1 to 90", "invalid_every");
  const now = options.now ?? Date.now();
  const resamples = options.resamples ?? 200;
  const seed = options.seed ?? 1;
  const model = healthModel(ruleFile.health);
  const program = healthProgram(model);
  const today = calendar.dayNumber(now);
  // The last scored day's horizon ends with yesterday, the last complete day.
  const lastDay = today - 1 - horizonDays;
  const firstDay = today - days;
  const snapshotDays: number[] = [];
  for (let day = lastDay; day >= firstDay; day -= everyDays) snapshotDays.unshift(day);
  const dayEnd = (day: number) => calendar.startOfDay(day + 1) - 1;
  const snapshots = snapshotDays.map((day) => ({ day, at: dayEnd(day), horizon: dayEnd(day + horizonDays) }));
  const columnsAt = snapshots.map((s) => scanColumns(program, s.at, calendar));
  const tables = new Set(program.columns.map((column) => column.aggregate.of));

  const score = new ClusteredScores();
  const componentNames = [...new Set([...model.default, ...[...model.segments.values()].flat()].map((c) => c.name))];
  const components = new Map(componentNames.map((name) => [name, { fact: "", scores: new ClusteredScores() }]));
  const byGrade = new Map<Grade, { observations: number; churned: number }>(GRADES.map((g) => [g, { observations: 0, churned: 0 }]));
  let observations = 0;
  let churned = 0;
  const scoredCustomers = new Set<number>();
  const total = await countCustomers(store.db);
  let done = 0;
  for (let after = 0; ; ) {
    const customers = await customersAfter(store.db, after, 2_000);
    if (customers.length === 0) break;
    const last = (customers[customers.length - 1] as (typeof customers)[number]).id;
    const histories = new Map<number, CustomerHistory>();
    const historyOf = (id: number) => {
      let h = histories.get(id);
      if (h === undefined) {
        h = emptyHistory();
        histories.set(id, h);
      }
      return h;
    };
    const { touches, nps, purchases } = await historiesInRange(store.db, after, last, dayEnd(lastDay), tables);
    for (const t of touches) {
      historyOf(t.customerId).touchAt.push(t.at);
      historyOf(t.customerId).touchKind.push(t.kind);
    }
    for (const n of nps) {
      historyOf(n.customerId).npsAt.push(n.at);
      historyOf(n.customerId).npsScore.push(n.score);
    }
    for (const p of purchases) {
      historyOf(p.customerId).purchaseAt.push(p.at);
      historyOf(p.customerId).purchaseCents.push(p.cents);
    }
    for (const customer of customers) {
      const replay = new HistoryReplay(histories.get(customer.id) ?? emptyHistory());
      const input: FactInput = { ...customer, values: new Array(program.columns.length).fill(null) };
      const values = input.values as Array<FactInput["values"][number]>;
      const existsFrom = Math.min(customer.createdAt, customer.sinceAt ?? customer.createdAt);
      score.startCluster();
      for (const { scores } of components.values()) scores.startCluster();
      snapshots.forEach((snapshot, s) => {
        // A customer of the book then: as the sweep would have seen them that day.
        if (existsFrom > snapshot.at || (customer.churnedAt !== null && customer.churnedAt <= snapshot.at)) return;
        const columns = columnsAt[s] as (typeof columnsAt)[number];
        for (let c = 0; c < columns.length; c++) values[c] = replay.value(columns[c] as (typeof columns)[number]);
        const facts = program.evaluate(input, snapshot.at, calendar);
        const reading = readHealth(model, facts, customer.segment);
        if (reading.score === null || reading.grade === null) return;
        const event = customer.churnedAt !== null && customer.churnedAt <= snapshot.horizon;
        observations++;
        if (event) churned++;
        scoredCustomers.add(customer.id);
        const grade = byGrade.get(reading.grade) as { observations: number; churned: number };
        grade.observations++;
        if (event) grade.churned++;
        score.add(reading.score, event);
        for (const component of reading.components) {
          if (component.score === null) continue;
          const entry = components.get(component.name);
          if (entry === undefined) continue;
          entry.fact = component.fact;
          entry.scores.add(component.score, event);
        }
      });
      done++;
      if (done % 2_000 === 0) options.onProgress?.(done, total);
    }
    after = last;
  }
  options.onProgress?.(total, total);
  return {
    from: calendar.isoDate((snapshots[0]?.at ?? now) as number),
    to: calendar.isoDate((snapshots[snapshots.length - 1]?.at ?? now) as number),
    horizonDays,
    everyDays,
    snapshots: snapshots.length,
    observations,
    customers: scoredCustomers.size,
    churned,
    grades: [...byGrade].map(([grade, g]) => ({
      grade,
      observations: g.observations,
      churned: g.churned,
      churnRate: g.observations === 0 ? null : g.churned / g.observations,
      interval: wilsonInterval(g.churned, g.observations),
    })),
    score: score.summary({ resamples, seed }),
    components: [...components]
      .map(([name, { fact, scores }]) => ({ name, fact, ...scores.summary({ resamples, seed }) }))
      .sort((a, b) => (b.auc ?? -1) - (a.auc ?? -1) || a.name.localeCompare(b.name)),
    resamples,
    seed,
  };
}
