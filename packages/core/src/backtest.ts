import { type Calendar, explain, type FactInput, type Facts, type Rule, type RuleFile } from "@keepwarm/rules";
import { countCustomers, customersAfter, DAY_MS, historiesInRange, type Store } from "@keepwarm/store";
import { UserError } from "./errors";
import { scanColumns } from "./facts/columns";
import { prepareEvaluation } from "./facts/evaluation";
import { type CustomerHistory, emptyHistory, firstAbove, HistoryReplay } from "./facts/replay";
import { isHeldOut } from "./holdout";

export const BACKTEST_MAX_DAYS = 365;
/** "Was the customer in fact touched soon after the nudge?" looks this far ahead. */
export const OUTCOME_WINDOW_DAYS = 7;

/**
 * The last instant a touch counts as "within 7 days" of a nudge at `at`: the end of the
 * 7th calendar day after the nudge's day in KEEPWARM_TZ (not 168 hours, which a DST
 * change makes 167 or 169), and never later than `now`.
 */
export function outcomeHorizon(calendar: Calendar, at: number, now: number): number {
  return Math.min(calendar.startOfDay(calendar.dayNumber(at) + OUTCOME_WINDOW_DAYS + 1) - 1, now);
}

export interface BacktestOptions {
  calendar: Calendar;
  /** How many complete past days to replay: the `days` days before today. */
  days: number;
  now?: number;
  /** Sample nudges kept per rule; default 10. */
  sampleSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface BacktestCounts {
  /** Nudges that would have been created. */
  fired: number;
  /** Of those, nudges followed by a touch of the customer within 7 days. */
  touchedWithin7Days: number;
  /** Of those, nudges whose customer churned after the nudge, by the end of the window. */
  churned: number;
}

export interface BacktestNudge {
  date: string;
  customerId: string;
  name: string;
  explanation: string;
  heldOut: boolean;
  touchedWithin7Days: boolean;
  churned: boolean;
}

export interface BacktestRuleReport extends BacktestCounts {
  ruleId: string;
  name: string;
  /** Distinct customers nudged. */
  customers: number;
  heldOut: number;
  /** External ids of the customers nudged who churned after a nudge, by the end of the window (code-point order). */
  churnedCustomers: string[];
  weeks: Array<BacktestCounts & { week: string }>;
  sample: BacktestNudge[];
}

export interface BacktestReport {
  from: string;
  to: string;
  days: number;
  asOf: number;
  /** Customer-days evaluated. */
  evaluations: number;
  totals: BacktestCounts & { customers: number; heldOut: number };
  rules: BacktestRuleReport[];
}

/** ISO 8601 week ("2026-W24") of a local day number. */
export function isoWeek(dayNumber: number): string {
  const weekday = (new Date(dayNumber * DAY_MS).getUTCDay() + 6) % 7;
  const thursday = dayNumber - weekday + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const firstDay = Date.UTC(year, 0, 1) / DAY_MS;
  const week = Math.floor((thursday - firstDay) / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

export function assertBacktestDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > BACKTEST_MAX_DAYS) {
    throw new UserError(`--days must be a whole number from 1 to ${BACKTEST_MAX_DAYS}`, "invalid_days");
  }
}

/** Customers whose histories are loaded at once: bounds memory, whatever the number of customers. */
const BACKTEST_CHUNK = 2_000;

interface SampleEntry {
  day: number;
  nudge: BacktestNudge;
}

interface RuleTally {
  rule: Rule;
  fired: number;
  touched: number;
  churned: number;
  heldOut: number;
  customers: number;
  churnedCustomers: Set<string>;
  /** Per replayed day: fired, touched, churned. */
  byDay: Int32Array;
  /** The first nudges in (day, customer) order, as the day-by-day replay lists them. */
  sample: SampleEntry[];
}

/**
 * Replay a rule file over stored history: one evaluation at the end of each past
 * day, with facts as they stood then, and the sweep's own policy simulated in
 * memory — one live nudge per (rule, customer); a newer touch resolves it (when
 * resolveOnTouch) and starts the cooldown; a nudge whose conditions stop holding
 * expires without a cooldown, exactly as runSweep's expiry does. Snoozes and
 * dismissals are not in the history, so none are simulated. Writes nothing.
 *
 * One pass: customers are independent under that policy, so each customer's history
 * is read once (a chunk of customers at a time, in id order, only the tables the
 * rules' facts read) and walked day by day: each fact's aggregates are replayed at
 * each day's end (facts/replay.ts) — the same values the fact scan at that instant
 * returns — and fed to the same fact program and compiled rules. backtest-reference.ts
 * keeps the day-by-day replay (a fact scan per day) this is tested against.
 */
export async function backtestRuleSet(store: Store, ruleFile: RuleFile, options: BacktestOptions): Promise<BacktestReport> {
  assertBacktestDays(options.days);
  const now = options.now ?? Date.now();
  const { calendar, days } = options;
  const sampleSize = Math.max(0, options.sampleSize ?? 10);
  const lastDay = calendar.dayNumber(now) - 1;
  const firstDay = lastDay - days + 1;
  const dayEnds = Array.from({ length: days }, (_, d) => calendar.startOfDay(firstDay + d + 1) - 1);
  const weekOf = Array.from({ length: days }, (_, d) => isoWeek(firstDay + d));

  const evaluation = prepareEvaluation(ruleFile);
  const { rules, compiled, program } = evaluation;
  // Each day's columns, resolved to instants once for every customer.
  const dayColumns = dayEnds.map((dayEnd) => scanColumns(program, dayEnd, calendar));
  // Touches always: they resolve nudges and are the outcome; the other tables only when a fact reads them.
  const tables = new Set(["touches" as const, ...program.columns.map((column) => column.aggregate.of)]);
  const tallies: RuleTally[] = rules.map((rule) => ({
    rule,
    fired: 0,
    touched: 0,
    churned: 0,
    heldOut: 0,
    customers: 0,
    churnedCustomers: new Set(),
    byDay: new Int32Array(days * 3),
    sample: [],
  }));
  const ruleCount = rules.length;
  // Per rule, for the customer being replayed.
  const live = new Uint8Array(ruleCount);
  const liveBasis = new Float64Array(ruleCount);
  const liveAt = new Float64Array(ruleCount);
  const coolingUntil = new Float64Array(ruleCount);
  const seen = new Uint8Array(ruleCount);
  const firedHere = new Uint8Array(ruleCount);

  const totalCustomers = await countCustomers(store.db);

  let evaluations = 0;
  let customersNudged = 0;
  let processed = 0;
  let reported = 0;
  let after = 0;
  for (;;) {
    const customers = await customersAfter(store.db, after, BACKTEST_CHUNK);
    if (customers.length === 0) break;
    const last = (customers[customers.length - 1] as (typeof customers)[number]).id;
    const histories = new Map<number, CustomerHistory>();
    const historyOf = (id: number): CustomerHistory => {
      let history = histories.get(id);
      if (history === undefined) {
        history = emptyHistory();
        histories.set(id, history);
      }
      return history;
    };
    const { touches, nps, purchases } = await historiesInRange(store.db, after, last, now, tables);
    for (const { customerId, at, kind } of touches) {
      const history = historyOf(customerId);
      history.touchAt.push(at);
      history.touchKind.push(kind);
    }
    for (const { customerId, at, score } of nps) {
      const history = historyOf(customerId);
      history.npsAt.push(at);
      history.npsScore.push(score);
    }
    for (const { customerId, at, cents } of purchases) {
      const history = historyOf(customerId);
      history.purchaseAt.push(at);
      history.purchaseCents.push(cents);
    }

    for (const customer of customers) {
      const { id, externalId, name, sinceAt, churnedAt, createdAt } = customer;
      const history = histories.get(id) ?? emptyHistory();
      const { touchAt } = history;
      const replay = new HistoryReplay(history);
      // One input per customer; its values are refilled for each replayed day.
      const input: FactInput = { ...customer, values: new Array(program.columns.length).fill(null) };
      const values = input.values as Array<FactInput["values"][number]>;
      const existsFrom = Math.min(createdAt, sinceAt ?? createdAt);
      live.fill(0);
      coolingUntil.fill(-Infinity);
      firedHere.fill(0);
      let touchEnd = 0;
      for (let d = 0; d < days; d++) {
        const dayEnd = dayEnds[d] as number;
        // Touches logged during the day resolve live nudges before the day's sweep.
        for (let r = 0; r < ruleCount; r++) {
          if (live[r] === 0 || !(tallies[r] as RuleTally).rule.nudge.resolveOnTouch) continue;
          const next = firstAbove(touchAt, Math.max(liveBasis[r] as number, liveAt[r] as number));
          const at = touchAt[next];
          if (at === undefined || at > dayEnd) continue;
          live[r] = 0;
          coolingUntil[r] = at + (tallies[r] as RuleTally).rule.nudge.cooldownDays * DAY_MS;
        }
        seen.fill(0);
        if ((churnedAt === null || churnedAt > dayEnd) && existsFrom <= dayEnd) {
          evaluations++;
          while (touchEnd < touchAt.length && (touchAt[touchEnd] as number) <= dayEnd) touchEnd++;
          const lastTouchAt = touchEnd > 0 ? (touchAt[touchEnd - 1] as number) : null;
          let facts: Facts | undefined;
          for (let r = 0; r < ruleCount; r++) {
            if (facts === undefined) {
              const columns = dayColumns[d] as (typeof dayColumns)[number];
              for (let c = 0; c < columns.length; c++) values[c] = replay.value(columns[c] as (typeof columns)[number]);
              facts = program.evaluate(input, dayEnd, calendar);
            }
            if (!(compiled[r] as { matches: (facts: Facts) => boolean }).matches(facts)) continue;
            seen[r] = 1;
            if (live[r] === 1 || (coolingUntil[r] as number) > dayEnd) continue;
            live[r] = 1;
            // Never touched: the quiet period counts from `since` (or the import), as the sweep plans it.
            liveBasis[r] = lastTouchAt ?? sinceAt ?? createdAt;
            liveAt[r] = dayEnd;
            const tally = tallies[r] as RuleTally;
            const horizon = outcomeHorizon(calendar, dayEnd, now);
            const next = touchAt[firstAbove(touchAt, dayEnd, touchEnd)];
            const touched = next !== undefined && next <= horizon;
            const churned = churnedAt !== null && churnedAt > dayEnd && churnedAt <= now;
            const heldOut = isHeldOut(tally.rule.id, externalId, tally.rule.nudge.holdoutPercent);
            tally.fired++;
            tally.byDay[d * 3] = (tally.byDay[d * 3] as number) + 1;
            if (touched) {
              tally.touched++;
              tally.byDay[d * 3 + 1] = (tally.byDay[d * 3 + 1] as number) + 1;
            }
            if (churned) {
              tally.churned++;
              tally.byDay[d * 3 + 2] = (tally.byDay[d * 3 + 2] as number) + 1;
              tally.churnedCustomers.add(externalId);
            }
            if (heldOut) tally.heldOut++;
            if (firedHere[r] === 0) {
              firedHere[r] = 1;
              tally.customers++;
            }
            keepSample(tally, sampleSize, d, () => ({
              date: calendar.isoDate(dayEnd),
              customerId: externalId,
              name,
              explanation: explain(tally.rule, facts as Facts, {
                health: program.health,
                past: program.past(),
                segment: customer.segment,
              }),
              heldOut,
              touchedWithin7Days: touched,
              churned,
            }));
          }
        }
        for (let r = 0; r < ruleCount; r++) if (seen[r] === 0) live[r] = 0;
      }
      if (firedHere.includes(1)) customersNudged++;
      processed++;
      // Progress in replayed days, as the day-by-day replay reported it.
      const done = Math.floor((days * processed) / Math.max(totalCustomers, 1));
      for (; reported < Math.min(done, days - 1); reported++) options.onProgress?.(reported + 1, days);
    }
    after = last;
  }
  for (; reported < days; reported++) options.onProgress?.(reported + 1, days);

  const reports = tallies.map((tally): BacktestRuleReport => {
    const weeks = new Map<string, BacktestCounts>();
    for (let d = 0; d < days; d++) {
      const fired = tally.byDay[d * 3] as number;
      if (fired === 0) continue;
      const key = weekOf[d] as string;
      const week = weeks.get(key) ?? { fired: 0, touchedWithin7Days: 0, churned: 0 };
      weeks.set(key, week);
      week.fired += fired;
      week.touchedWithin7Days += tally.byDay[d * 3 + 1] as number;
      week.churned += tally.byDay[d * 3 + 2] as number;
    }
    return {
      ruleId: tally.rule.id,
      name: tally.rule.name,
      fired: tally.fired,
      touchedWithin7Days: tally.touched,
      churned: tally.churned,
      customers: tally.customers,
      heldOut: tally.heldOut,
      churnedCustomers: [...tally.churnedCustomers].sort(),
      weeks: [...weeks].map(([week, counts]) => ({ week, ...counts })),
      sample: tally.sample.map((entry) => entry.nudge),
    };
  });
  const sum = (field: "fired" | "touchedWithin7Days" | "churned" | "heldOut") => reports.reduce((total, rule) => total + rule[field], 0);
  return {
    from: calendar.isoDate(calendar.startOfDay(firstDay)),
    to: calendar.isoDate(calendar.startOfDay(lastDay)),
    days,
    asOf: now,
    evaluations,
    totals: {
      fired: sum("fired"),
      touchedWithin7Days: sum("touchedWithin7Days"),
      churned: sum("churned"),
      heldOut: sum("heldOut"),
      customers: customersNudged,
    },
    rules: reports,
  };
}

/**
 * Keep the first `size` nudges of a rule in (day, customer) order. Customers arrive in
 * id order, so a nudge goes after every kept one of its day or earlier; its words are
 * written only when it is kept.
 */
function keepSample(tally: RuleTally, size: number, day: number, nudge: () => BacktestNudge): void {
  const sample = tally.sample;
  let at = sample.length;
  while (at > 0 && (sample[at - 1] as SampleEntry).day > day) at--;
  if (at >= size) return;
  sample.splice(at, 0, { day, nudge: nudge() });
  if (sample.length > size) sample.pop();
}
