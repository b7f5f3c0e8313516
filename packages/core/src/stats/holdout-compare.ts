import { type NudgeOutcome, nudgeOutcomes, type Store } from "@keepwarm/store";
import { byCodePoint, periodEndOf, round1, type StatsPeriod, statsWindow } from "./period";
import { type MeanTest, meanDifferenceTest, type ProportionTest, twoProportionTest, wilsonInterval } from "./significance";

/** Below this many nudges (or NPS pairs) in either group, we say "not enough data yet" instead of guessing. */
export const MIN_GROUP_SIZE = 30;

export interface GroupShare {
  n: number;
  yes: number;
  share: number | null;
  /** Wilson 95% interval of the share. */
  interval: [number, number] | null;
}

export interface ProportionComparison {
  nudged: GroupShare;
  heldOut: GroupShare;
  enoughData: boolean;
  test: ProportionTest | null;
  verdict: string;
}

export interface NpsChangeComparison {
  nudged: { n: number; meanChange: number | null };
  heldOut: { n: number; meanChange: number | null };
  enoughData: boolean;
  test: MeanTest | null;
  verdict: string;
}

export interface HoldoutComparison {
  ruleId: string;
  nudges: { nudged: number; heldOut: number };
  /** Touched by the end of the 7th calendar day after the nudge's day; only nudges whose 7 days have passed count. */
  touched7: ProportionComparison;
  touched14: ProportionComparison;
  /** Churned after the nudge, up to the end of the period. */
  churned: ProportionComparison;
  /** NPS after the nudge − NPS before it, for customers who answered both. */
  npsChange: NpsChangeComparison;
}

/** One nudge and what happened after it. */
type Outcome = NudgeOutcome;

const pct = (x: number) => `${Math.round(x * 100)}%`;
const points = (x: number) => {
  const rounded = Math.round(x * 100);
  return `${rounded >= 0 ? "+" : "−"}${Math.abs(rounded)}`;
};
/** A difference is "clear" when its 95% interval leaves out 0: the verdict follows the interval it prints. */
export const excludesZero = (interval: readonly [number, number]) => interval[0] > 0 || interval[1] < 0;

export const formatP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

function share(rows: readonly Outcome[], pick: (r: Outcome) => number): GroupShare {
  const yes = rows.filter((r) => pick(r) === 1).length;
  return { n: rows.length, yes, share: rows.length === 0 ? null : yes / rows.length, interval: wilsonInterval(yes, rows.length) };
}

/** Two groups' shares of one outcome, compared: A − B with its interval, test and verdict. */
export interface GroupComparison {
  a: GroupShare;
  b: GroupShare;
  enoughData: boolean;
  test: ProportionTest | null;
  verdict: string;
}

/** The one comparison of two groups' shares, for holdouts (nudged vs held out) and A/B versions (a vs b) alike. */
function compareGroups(
  what: string,
  aRows: readonly Outcome[],
  bRows: readonly Outcome[],
  pick: (r: Outcome) => number,
  names: [string, string],
): GroupComparison {
  const a = share(aRows, pick);
  const b = share(bRows, pick);
  const enoughData = a.n >= MIN_GROUP_SIZE && b.n >= MIN_GROUP_SIZE;
  const test = enoughData ? twoProportionTest(a.yes, a.n, b.yes, b.n) : null;
  let verdict: string;
  if (!enoughData || test === null || a.share === null || b.share === null) {
    verdict = `${what}: not enough data yet: needs ${MIN_GROUP_SIZE} in each group, has ${a.n} ${names[0]} and ${b.n} ${names[1]}`;
  } else {
    const figures = `${pct(a.share)} of ${names[0]} vs ${pct(b.share)} of ${names[1]} (${points(test.difference)} points, 95% CI ${points(test.interval[0])} to ${points(test.interval[1])}; ${formatP(test.p)})`;
    const side = names[0] === "nudged" ? "when nudged" : `for ${names[0]}`;
    verdict = `${what}: ${excludesZero(test.interval) ? `${test.difference > 0 ? "higher" : "lower"} ${side}` : "no clear difference yet"}: ${figures}`;
  }
  return { a, b, enoughData, test, verdict };
}

function compareProportion(what: string, nudgedRows: readonly Outcome[], heldRows: readonly Outcome[], pick: (r: Outcome) => number): ProportionComparison {
  const { a, b, ...rest } = compareGroups(what, nudgedRows, heldRows, pick, ["nudged", "held out"]);
  return { nudged: a, heldOut: b, ...rest };
}

function compareNps(nudgedRows: readonly Outcome[], heldRows: readonly Outcome[]): NpsChangeComparison {
  const changes = (rows: readonly Outcome[]) =>
    rows.filter((r) => r.npsBefore !== null && r.npsAfter !== null).map((r) => (r.npsAfter as number) - (r.npsBefore as number));
  const a = changes(nudgedRows);
  const b = changes(heldRows);
  const mean = (xs: number[]) => (xs.length === 0 ? null : round1(xs.reduce((s, x) => s + x, 0) / xs.length));
  const enoughData = a.length >= MIN_GROUP_SIZE && b.length >= MIN_GROUP_SIZE;
  const test = enoughData ? meanDifferenceTest(a, b) : null;
  let verdict: string;
  if (test === null) {
    verdict = `NPS change: not enough data yet: needs ${MIN_GROUP_SIZE} customers with an NPS answer before and after the nudge in each group, has ${a.length} nudged and ${b.length} held out`;
  } else {
    const sign = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(round1(x))}`;
    const figures = `mean change ${sign(test.meanA)} nudged vs ${sign(test.meanB)} held out (difference ${sign(test.difference)}, 95% CI ${sign(test.interval[0])} to ${sign(test.interval[1])}; ${formatP(test.p)})`;
    verdict = `NPS change: ${excludesZero(test.interval) ? (test.difference > 0 ? "higher when nudged" : "lower when nudged") : "no clear difference yet"}: ${figures}`;
  }
  return { nudged: { n: a.length, meanChange: mean(a) }, heldOut: { n: b.length, meanChange: mean(b) }, enoughData, test, verdict };
}

/** "Within N days" of a nudge: up to the end of the Nth calendar day after the nudge's day (KEEPWARM_TZ), as the backtest counts it. */
const outcomeWindowEnd = (period: StatsPeriod) => (o: Outcome, days: number) => periodEndOf(period.calendar, period.calendar.dayNumber(o.createdAt) + days);
const touchedWithinDays = (period: StatsPeriod) => {
  const windowEnd = outcomeWindowEnd(period);
  return (days: number) => (o: Outcome) => (o.firstTouchAfter !== null && o.firstTouchAfter <= windowEnd(o, days) ? 1 : 0);
};

/**
 * Nudged against held-out customers, per rule with a holdout, for nudges created in
 * (since, until]. The unit is the nudge: a customer nudged twice by a rule counts twice
 * (always in the same group, since assignment is by customer).
 */
export async function holdoutComparison(store: Store, period: StatsPeriod): Promise<HoldoutComparison[]> {
  const rows = await nudgeOutcomes(store.db, { ...statsWindow(period), experiment: "holdout" });
  const windowEnd = outcomeWindowEnd(period);
  const touchedWithin = touchedWithinDays(period);
  const byRule = new Map<string, Outcome[]>();
  for (const row of rows) {
    const list = byRule.get(row.ruleId) ?? [];
    list.push(row);
    byRule.set(row.ruleId, list);
  }
  return [...byRule]
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([ruleId, outcomes]) => {
      const nudged = outcomes.filter((o) => o.heldOut === 0);
      const held = outcomes.filter((o) => o.heldOut === 1);
      // A nudge younger than the window cannot have its outcome yet: leave it out rather than count it as "not touched".
      const matured = (rows: Outcome[], days: number) => rows.filter((o) => windowEnd(o, days) <= period.until);
      return {
        ruleId,
        nudges: { nudged: nudged.length, heldOut: held.length },
        touched7: compareProportion("touched within 7 days", matured(nudged, 7), matured(held, 7), touchedWithin(7)),
        touched14: compareProportion("touched within 14 days", matured(nudged, 14), matured(held, 14), touchedWithin(14)),
        churned: compareProportion("churned after the nudge", nudged, held, (o) => o.churned),
        npsChange: compareNps(nudged, held),
      };
    });
}

export interface VariantComparison {
  ruleId: string;
  /** Nudged (not held-out) nudges of each message version. */
  nudges: { a: number; b: number };
  /** Touched within 7 days after the nudge, version a vs b; only nudges at least 7 days old count. */
  touched7: GroupComparison;
}

/**
 * The two message versions of each rule with an A/B test, for nudges created in
 * (since, until] and not held out (a held-out nudge's message was never read): the same
 * shares, intervals and test as the holdout comparison, version a against version b.
 */
export async function variantComparison(store: Store, period: StatsPeriod): Promise<VariantComparison[]> {
  const rows = await nudgeOutcomes(store.db, { ...statsWindow(period), experiment: "variant" });
  const windowEnd = outcomeWindowEnd(period);
  const touchedWithin = touchedWithinDays(period);
  const byRule = new Map<string, Outcome[]>();
  for (const row of rows) byRule.set(row.ruleId, [...(byRule.get(row.ruleId) ?? []), row]);
  return [...byRule]
    .sort(([x], [y]) => byCodePoint(x, y))
    .map(([ruleId, outcomes]) => {
      const a = outcomes.filter((o) => o.variant === "a");
      const b = outcomes.filter((o) => o.variant === "b");
      const matured = (list: Outcome[]) => list.filter((o) => windowEnd(o, 7) <= period.until);
      return {
        ruleId,
        nudges: { a: a.length, b: b.length },
        touched7: compareGroups("touched within 7 days", matured(a), matured(b), touchedWithin(7), ["version a", "version b"]),
      };
    });
}
