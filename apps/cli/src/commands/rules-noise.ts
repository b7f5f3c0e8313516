import { writeFile } from "node:fs/promises";
import {
  BACKTEST_MAX_DAYS,
  DEFAULT_STATS_DAYS,
  noiseLines,
  noiseStats,
  parseIsoInstant,
  suggestRuleThreshold,
  type TuningBacktest,
  UserError,
} from "@keepwarm/core";
import type { Run } from "../command";
import type { rulesNoiseArgs, rulesSuggestArgs } from "./index";
import { parseWholeNumber } from "./rule-file-input";
import { resolvePeriod } from "./stats-period";

const pct = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);

function backtestLine(label: string, b: TuningBacktest): string {
  const missed = b.missedChurned.length === 0 ? "" : `; misses ${b.missedChurned.length} later churned (${b.missedChurned.join(", ")})`;
  return `  ${label.padEnd(10)} ${String(b.nudges).padStart(5)} nudges, ${b.nudgesPerWeek.toFixed(1).padStart(5)}/week; touched within 7 days ${pct(b.touchedShare)}; later churned ${b.churnedCustomers.length}${missed}`;
}

export const rulesNoiseCommand: Run<typeof rulesNoiseArgs> = async (values, ctx) => {
  const store = await ctx.store({ readonlyFallback: true });
  const report = await noiseStats(store, await resolvePeriod(store, ctx, values));
  if (values.json) {
    ctx.out(JSON.stringify(report));
    return 0;
  }
  ctx.out(`noise per rule, nudges created ${ctx.calendar.isoDate(report.since)} → ${ctx.calendar.isoDate(report.until)} (⚠ = mostly noise):`);
  for (const line of noiseLines(report)) ctx.out(line);
  if (report.rules.length === 0) ctx.out("  no nudges in this period");
  const flagged = report.rules.filter((r) => r.flagged);
  if (flagged.length > 0) ctx.out(`a stricter threshold, backtested: keepwarm rules suggest ${flagged[0]?.ruleId} --out proposal.json`);
  return 0;
};

export const rulesSuggestCommand: Run<typeof rulesSuggestArgs> = async (values, ctx) => {
  const ruleId = values.rule;
  const days = values.days === undefined ? DEFAULT_STATS_DAYS : parseWholeNumber(values.days, "--days", 1, BACKTEST_MAX_DAYS);
  const value = values.value === undefined ? undefined : Number(values.value);
  if (value !== undefined && (values.value?.trim() === "" || !Number.isFinite(value))) throw new UserError(`--value "${values.value}" is not a number`);
  let now: number | undefined;
  if (values["as-of"] !== undefined) {
    now = parseIsoInstant(values["as-of"], ctx.calendar);
    if (now === undefined) throw new UserError(`--as-of "${values["as-of"]}" is not a date (YYYY-MM-DD)`);
  }
  const suggestion = await suggestRuleThreshold(await ctx.store({ readonlyFallback: true }), ruleId, {
    calendar: ctx.calendar,
    days,
    ...(now === undefined ? {} : { now }),
    ...(value === undefined ? {} : { value }),
    ...(values.condition === undefined ? {} : { condition: values.condition }),
    onProgress: (done, total) => ctx.progress(`backtest: day ${done}/${total}`),
  });
  ctx.progress("");
  if (values.out !== undefined && suggestion.ruleFileText !== null) {
    try {
      await writeFile(values.out, suggestion.ruleFileText);
    } catch (error) {
      throw new UserError(`cannot write ${values.out}: ${(error as Error).message}`);
    }
  }
  if (values.json) {
    const { ruleFileText: _text, ...rest } = suggestion;
    ctx.out(JSON.stringify({ ...rest, out: suggestion.ruleFileText === null ? null : (values.out ?? null) }));
    return 0;
  }
  const t = suggestion.threshold;
  ctx.out(
    `${suggestion.ruleId} (rules v${suggestion.activeVersion}): ${t.fact} ${t.operator} ${t.value} at ${t.path}, backtested over ${suggestion.days} days (${suggestion.from} → ${suggestion.to})`,
  );
  ctx.out(backtestLine("now", suggestion.current));
  for (const c of suggestion.candidates) ctx.out(backtestLine(`${c === suggestion.proposed ? "→ " : ""}${c.value}`, c));
  if (suggestion.proposed === null) {
    ctx.out(`no proposal: ${suggestion.reason}`);
    return 0;
  }
  ctx.out(`proposal: ${t.fact} ${t.operator} ${suggestion.proposed.value} instead of ${t.value} (${suggestion.reason})`);
  if (values.out === undefined) {
    ctx.out("write it as a rule file with --out FILE; nothing was changed");
    return 0;
  }
  ctx.out(`wrote ${values.out}: the active rules with that one change. Nothing is applied until you do:`);
  ctx.out(`  keepwarm rules diff ${values.out}\n  keepwarm rules preview ${values.out}\n  keepwarm rules apply ${values.out}`);
  return 0;
};
