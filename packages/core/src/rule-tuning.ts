import { type Calendar, type Condition, didYouMean, type LeafCondition, type Rule, validateRuleFileText } from "@keepwarm/rules";
import { DAY_MS, type Store } from "@keepwarm/store";
import { assertBacktestDays, type BacktestRuleReport, backtestRuleSet } from "./backtest";
import { UserError } from "./errors";
import { getActiveRuleSet } from "./rule-sets";
import { type RuleNoise, noiseStats } from "./stats/noise";

/**
 * Tuning a noisy rule: make one numeric threshold of it stricter (fewer customers
 * match), backtest each step against the rule as it is over the same history, and write
 * the best step as a whole rule file for the admin to diff, preview and apply. Nothing
 * is applied here.
 */

/** Steps tried, as a share of the threshold's size (at least 1 each): 30 → 38, 45, 60. */
export const TUNING_STEPS = [0.25, 0.5, 1] as const;
/** A step must cut the rule's nudges by at least this share to be worth proposing. */
export const MIN_NUDGE_CUT = 0.25;

const STRICTER_UP = new Set(["greaterThan", "greaterThanInclusive"]);
const STRICTER_DOWN = new Set(["lessThan", "lessThanInclusive"]);

export interface Threshold {
  /** JSON path of the condition inside the rule, e.g. `conditions.all[1]`. */
  path: string;
  fact: string;
  operator: string;
  value: number;
  /** Where it sits in the rule's conditions, as property names and indexes. */
  steps: Array<string | number>;
}

export interface TuningBacktest {
  /** The threshold's value in this variant. */
  value: number;
  nudges: number;
  nudgesPerWeek: number;
  touchedWithin7Days: number;
  /** touchedWithin7Days / nudges; null without nudges. */
  touchedShare: number | null;
  /** Customers it nudged who later churned. */
  churnedCustomers: string[];
  /** Of the current rule's later-churned customers, those this variant never nudged. */
  missedChurned: string[];
}

export interface RuleSuggestion {
  ruleId: string;
  activeVersion: number;
  days: number;
  from: string;
  to: string;
  threshold: Omit<Threshold, "steps">;
  current: TuningBacktest;
  candidates: TuningBacktest[];
  /** The chosen candidate (one of `candidates`), or null when no step changes anything. */
  proposed: TuningBacktest | null;
  /** Why this candidate, in one sentence. */
  reason: string;
  /** The whole active rule file with the one value changed (null when nothing is proposed). */
  ruleFileText: string | null;
}

/** The rule's numeric thresholds a stricter value makes match less (not under a `not`), in order. */
export function tunableThresholds(rule: Rule): Threshold[] {
  const found: Threshold[] = [];
  const walk = (condition: Condition, steps: Array<string | number>) => {
    if ("all" in condition || "any" in condition) {
      const key = "all" in condition ? "all" : "any";
      const children = (condition as Record<string, Condition[]>)[key] as Condition[];
      for (const [i, child] of children.entries()) walk(child, [...steps, key, i]);
      return;
    }
    if ("not" in condition) return;
    const leaf = condition as LeafCondition;
    if (typeof leaf.value !== "number" || !(STRICTER_UP.has(leaf.operator) || STRICTER_DOWN.has(leaf.operator))) return;
    found.push({ path: pathText(steps), fact: leaf.fact, operator: leaf.operator, value: leaf.value, steps });
  };
  walk(rule.conditions, ["conditions"]);
  return found;
}

const pathText = (steps: ReadonlyArray<string | number>) => steps.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");

/** The stricter values tried for a threshold: each step of TUNING_STEPS, whole numbers when it is one. */
export function stricterValues(threshold: Pick<Threshold, "operator" | "value">): number[] {
  const sign = STRICTER_UP.has(threshold.operator) ? 1 : -1;
  const whole = Number.isInteger(threshold.value);
  const values = TUNING_STEPS.map((share) => {
    const step = Math.max(1, Math.abs(threshold.value) * share);
    return threshold.value + sign * (whole ? Math.round(step) : step);
  });
  return [...new Set(values)];
}

function withValue(rule: Rule, steps: ReadonlyArray<string | number>, value: number, id: string): Rule {
  const copy = structuredClone(rule);
  let node: unknown = copy;
  for (const step of steps) node = (node as Record<string | number, unknown>)[step];
  (node as LeafCondition).value = value;
  return { ...copy, id, enabled: true };
}

function summarise(report: BacktestRuleReport, value: number, days: number, current: BacktestRuleReport | undefined): TuningBacktest {
  const kept = new Set(report.churnedCustomers);
  return {
    value,
    nudges: report.fired,
    nudgesPerWeek: report.fired / (days / 7),
    touchedWithin7Days: report.touchedWithin7Days,
    touchedShare: report.fired === 0 ? null : report.touchedWithin7Days / report.fired,
    churnedCustomers: report.churnedCustomers,
    missedChurned: current === undefined ? [] : current.churnedCustomers.filter((c) => !kept.has(c)),
  };
}

/**
 * Among the steps that cut the rule's nudges by at least MIN_NUDGE_CUT: the one missing
 * the fewest customers who later churned (a quieter rule must not lose the ones that
 * mattered), then the one whose nudges were most often followed by a touch within 7
 * days, then the smallest change. When no step cuts that much, the one cutting most.
 */
function choose(current: TuningBacktest, candidates: TuningBacktest[]): { proposed: TuningBacktest | null; reason: string } {
  const changed = candidates.filter((c) => c.nudges < current.nudges);
  if (changed.length === 0) return { proposed: null, reason: "no stricter value of this threshold changes what the rule would have sent" };
  const cutting = changed.filter((c) => c.nudges <= current.nudges * (1 - MIN_NUDGE_CUT));
  if (cutting.length === 0) {
    const most = changed.reduce((best, c) => (c.nudges < best.nudges ? c : best));
    return { proposed: most, reason: `no step cuts the nudges by ${MIN_NUDGE_CUT * 100}%; this one cuts most` };
  }
  const better = (a: TuningBacktest, b: TuningBacktest) =>
    a.missedChurned.length !== b.missedChurned.length ? a.missedChurned.length < b.missedChurned.length : (a.touchedShare ?? 0) > (b.touchedShare ?? 0);
  const best = cutting.reduce((b, c) => (better(c, b) ? c : b));
  return {
    proposed: best,
    reason: `of the steps cutting the nudges by at least ${MIN_NUDGE_CUT * 100}%, the one missing the fewest later-churned customers, then the one most often followed by a touch within 7 days`,
  };
}

/**
 * Propose a stricter threshold for one rule of the active rules, backtested over the
 * `days` days before `now` against the rule as it is. `value` tries that value only;
 * `condition` picks a threshold by its path (default: the rule's first).
 */
export async function suggestRuleThreshold(
  store: Store,
  ruleId: string,
  options: { calendar: Calendar; days: number; now?: number; value?: number; condition?: string; onProgress?: (done: number, total: number) => void },
): Promise<RuleSuggestion> {
  assertBacktestDays(options.days);
  const active = await getActiveRuleSet(store);
  if (active === undefined) throw new UserError("no rules are active yet (run keepwarm init)", "no_active_rules");
  const ids = active.ruleFile.rules.map((r) => r.id);
  const index = ids.indexOf(ruleId);
  const rule = active.ruleFile.rules[index];
  if (rule === undefined) throw new UserError(`no rule "${ruleId}" in the active rules (v${active.version})${didYouMean(ruleId, ids)}`, "unknown_rule");
  const thresholds = tunableThresholds(rule);
  const threshold = options.condition === undefined ? thresholds[0] : thresholds.find((t) => t.path === options.condition);
  if (threshold === undefined) {
    const known = thresholds.map((t) => t.path);
    throw new UserError(
      options.condition === undefined || known.length === 0
        ? `rule "${ruleId}" has no threshold to tune (a fact compared with >, ≥, < or ≤ a number, outside a "not")`
        : `rule "${ruleId}" has no threshold at ${options.condition}; thresholds: ${known.join(", ")}`,
      "nothing_to_tune",
    );
  }
  const values = options.value === undefined ? stricterValues(threshold) : [options.value];
  // One replay for all: customers are independent of each other and rules of each other, so the variants ride along as rules of their own.
  const variants = [{ ...rule, enabled: true }, ...values.map((v, i) => withValue(rule, threshold.steps, v, `${rule.id}.try${i + 1}`))];
  const report = await backtestRuleSet(
    store,
    { ...active.ruleFile, rules: variants },
    {
      calendar: options.calendar,
      days: options.days,
      sampleSize: 0,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    },
  );
  const [currentReport, ...candidateReports] = report.rules as [BacktestRuleReport, ...BacktestRuleReport[]];
  const current = summarise(currentReport, threshold.value, report.days, undefined);
  const candidates = candidateReports.map((r, i) => summarise(r, values[i] as number, report.days, currentReport));
  const { proposed, reason } = choose(current, candidates);
  const { steps: _steps, ...shown } = threshold;
  return {
    ruleId,
    activeVersion: active.version,
    days: report.days,
    from: report.from,
    to: report.to,
    threshold: shown,
    current,
    candidates,
    proposed,
    reason,
    ruleFileText: proposed === null ? null : proposalText(active.json, index, threshold.steps, proposed.value),
  };
}

/** The stored rule file, as the admin wrote it, with the one value changed: `rules diff` then shows that change alone. */
function proposalText(json: string, index: number, steps: ReadonlyArray<string | number>, value: number): string {
  const file = JSON.parse(json) as { rules: Array<Record<string, unknown>> };
  let node: unknown = file.rules[index];
  for (const step of steps) node = (node as Record<string | number, unknown>)[step];
  (node as { value: number }).value = value;
  const text = `${JSON.stringify(file, null, 2)}\n`;
  const check = validateRuleFileText(text);
  if (!check.valid) throw new Error(`the proposed rule file is invalid: ${check.errors.map((e) => e.message).join("; ")}`);
  return text;
}

/** The rules flagged as mostly noise over the `days` before `now`, each with its suggestion (null when it has no threshold to tune). */
export async function noisyRulesWithSuggestions(
  store: Store,
  options: { calendar: Calendar; now: number; days: number },
): Promise<Array<{ noise: RuleNoise; suggestion: RuleSuggestion | null }>> {
  const report = await noiseStats(store, { since: options.now - options.days * DAY_MS, until: options.now, calendar: options.calendar });
  const out: Array<{ noise: RuleNoise; suggestion: RuleSuggestion | null }> = [];
  for (const noise of report.rules.filter((r) => r.flagged)) {
    try {
      out.push({ noise, suggestion: await suggestRuleThreshold(store, noise.ruleId, options) });
    } catch (error) {
      // A rule flagged from its history may since have been removed, or have no numeric threshold.
      if (!(error instanceof UserError) || !["unknown_rule", "nothing_to_tune"].includes(error.code)) throw error;
      out.push({ noise, suggestion: null });
    }
  }
  return out;
}
