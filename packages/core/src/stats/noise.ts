import { dismissReasons, type Store } from "@keepwarm/store";
import { ALREADY_TOUCHED_DAYS, type RuleFunnel, ROUTINE_AFTER_DAYS, funnelStats } from "./funnel";
import { excludesZero, formatP, type HoldoutComparison, holdoutComparison } from "./holdout-compare";
import { byCodePoint, ratio, type StatsPeriod, statsWindow } from "./period";

/**
 * When a rule is flagged as mostly noise. Shares are of its settled nudges (nudged, not
 * held out, closed by now) created in the period; a rule needs MIN_SETTLED of them
 * before its shares say anything.
 */
export const NOISE_THRESHOLDS = {
  minSettled: 20,
  /** Dismissed, snoozed more than once, expired untouched or resolved only by the next routine touch. */
  noiseShare: 0.5,
  /** The customer had been touched in the 7 days before the nudge. */
  alreadyTouchedShare: 0.5,
} as const;

export interface DismissReason {
  /** Trimmed, lower case; null = dismissed without a reason. */
  reason: string | null;
  n: number;
}

export interface RuleNoise {
  ruleId: string;
  nudged: number;
  settled: number;
  stillOpen: number;
  counts: Pick<RuleFunnel, "dismissed" | "snoozedRepeatedly" | "expiredUntouched" | "resolvedByRoutineTouch" | "alreadyTouched" | "noisy">;
  /** Each count as a share of the settled nudges (null when none settled). */
  shares: Record<keyof RuleNoise["counts"], number | null>;
  /** The three most frequent dismissal reasons. */
  topDismissReasons: DismissReason[];
  /** Touched within 7 days, nudged minus held out (the holdout's own test); null without a holdout. */
  holdout: { uplift: number | null; interval: [number, number] | null; p: number | null; enoughData: boolean; verdict: string } | null;
  flagged: boolean;
  /** Why it is flagged, one sentence per threshold crossed, with the figures. */
  evidence: string[];
}

export interface NoiseReport {
  since: number;
  until: number;
  thresholds: typeof NOISE_THRESHOLDS & { routineAfterDays: number; alreadyTouchedDays: number };
  rules: RuleNoise[];
}

const pct = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);
const TOP_REASONS = 3;

/**
 * The noise of each rule, from the funnel's counts, the dismissal reasons and the
 * holdout comparison of the same period (passed in when the caller has them already).
 */
export async function noiseStats(
  store: Store,
  period: StatsPeriod,
  computed: { funnel?: RuleFunnel[]; holdouts?: HoldoutComparison[] } = {},
): Promise<NoiseReport> {
  const funnel = computed.funnel ?? (await funnelStats(store, period));
  const holdouts = computed.holdouts ?? (await holdoutComparison(store, period));
  const reasons = await dismissReasons(store.db, statsWindow(period));
  const rules = funnel.map((f) =>
    ruleNoise(
      f,
      holdouts.find((h) => h.ruleId === f.ruleId),
      reasons.filter((r) => r.ruleId === f.ruleId),
    ),
  );
  return {
    since: period.since,
    until: period.until,
    thresholds: { ...NOISE_THRESHOLDS, routineAfterDays: ROUTINE_AFTER_DAYS, alreadyTouchedDays: ALREADY_TOUCHED_DAYS },
    rules,
  };
}

function ruleNoise(f: RuleFunnel, holdout: HoldoutComparison | undefined, reasons: ReadonlyArray<{ reason: string | null; n: number }>): RuleNoise {
  const counts = {
    dismissed: f.dismissed,
    snoozedRepeatedly: f.snoozedRepeatedly,
    expiredUntouched: f.expiredUntouched,
    resolvedByRoutineTouch: f.resolvedByRoutineTouch,
    alreadyTouched: f.alreadyTouched,
    noisy: f.noisy,
  };
  // `dismissed` counts every nudged dismissal; a dismissed nudge is always settled.
  const shares = Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, ratio(n, f.settled)])) as RuleNoise["shares"];
  const topDismissReasons = [...reasons]
    .sort((a, b) => b.n - a.n || byCodePoint(a.reason ?? "", b.reason ?? ""))
    .slice(0, TOP_REASONS)
    .map(({ reason, n }) => ({ reason, n }));

  const evidence: string[] = [];
  const enough = f.settled >= NOISE_THRESHOLDS.minSettled;
  if (enough && (shares.noisy ?? 0) >= NOISE_THRESHOLDS.noiseShare) {
    const why = [
      `${pct(shares.dismissed)} dismissed${topDismissReasons.length === 0 ? "" : ` (${topDismissReasons.map((r) => `"${r.reason ?? "no reason"}" ${r.n}`).join(", ")})`}`,
      `${pct(shares.snoozedRepeatedly)} snoozed more than once`,
      `${pct(shares.expiredUntouched)} expired untouched`,
      `${pct(shares.resolvedByRoutineTouch)} resolved only by a touch more than ${ROUTINE_AFTER_DAYS} days later`,
    ];
    evidence.push(`${pct(shares.noisy)} of ${f.settled} settled nudges were noise: ${why.join("; ")}`);
  }
  if (enough && (shares.alreadyTouched ?? 0) >= NOISE_THRESHOLDS.alreadyTouchedShare) {
    evidence.push(`${pct(shares.alreadyTouched)} of ${f.settled} settled nudges were about customers touched in the ${ALREADY_TOUCHED_DAYS} days before`);
  }
  const touched7 = holdout?.touched7;
  const test = touched7?.test ?? null;
  if (touched7?.enoughData && test !== null && (!excludesZero(test.interval) || test.difference <= 0)) {
    evidence.push(`its holdout shows no uplift: ${touched7.verdict}`);
  }
  return {
    ruleId: f.ruleId,
    nudged: f.nudged,
    settled: f.settled,
    stillOpen: f.stillOpen,
    counts,
    shares,
    topDismissReasons,
    holdout:
      touched7 === undefined
        ? null
        : {
            uplift: test?.difference ?? null,
            interval: test?.interval ?? null,
            p: test?.p ?? null,
            enoughData: touched7.enoughData,
            verdict: touched7.verdict,
          },
    flagged: evidence.length > 0,
    evidence,
  };
}

/** One line per rule for text output: the shares, the holdout, and the flag with its evidence. */
export function noiseLines(report: NoiseReport): string[] {
  const lines: string[] = [];
  for (const r of report.rules) {
    const s = r.shares;
    lines.push(
      `${r.flagged ? "⚠" : " "} ${r.ruleId}: ${r.settled} settled of ${r.nudged} nudged; noise ${pct(s.noisy)} (dismissed ${pct(s.dismissed)}, snoozed 2+ ${pct(s.snoozedRepeatedly)}, expired untouched ${pct(s.expiredUntouched)}, routine touch ${pct(s.resolvedByRoutineTouch)}); already touched ${pct(s.alreadyTouched)}; holdout uplift ${holdoutText(r)}`,
    );
    if (r.topDismissReasons.length > 0)
      lines.push(`    dismissed because: ${r.topDismissReasons.map((d) => `${d.reason ?? "(no reason)"} ×${d.n}`).join(", ")}`);
    for (const e of r.evidence) lines.push(`    noise: ${e}`);
  }
  return lines;
}

function holdoutText(r: RuleNoise): string {
  if (r.holdout === null) return "— (no holdout)";
  if (r.holdout.uplift === null || r.holdout.p === null) return "— (not enough data yet)";
  const points = Math.round(r.holdout.uplift * 100);
  return `${points >= 0 ? "+" : "−"}${Math.abs(points)} points (${formatP(r.holdout.p)})`;
}
