import { BACKTEST_MAX_DAYS, backtestRuleSet, parseIsoInstant, previewRuleSet, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import type { Context } from "../context";
import type { rulesBacktestArgs, rulesPreviewArgs } from "./index";
import { parseWholeNumber, readValidRuleFile } from "./rule-file-input";

const MAX_SAMPLE = 1000;

function asOf(text: string | undefined, ctx: Context): number {
  if (text === undefined) return Date.now();
  const instant = parseIsoInstant(text, ctx.calendar);
  if (instant === undefined) throw new UserError(`--as-of "${text}" is not a date (YYYY-MM-DD)`);
  return instant;
}

const percent = (part: number, whole: number): string => (whole === 0 ? "" : ` (${Math.round((100 * part) / whole)}%)`);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export const rulesPreviewCommand: Run<typeof rulesPreviewArgs> = async (values, ctx) => {
  const { file } = values;
  const sampleSize = values.sample === undefined ? 5 : parseWholeNumber(values.sample, "--sample", 0, MAX_SAMPLE);
  const now = asOf(values["as-of"], ctx);
  const candidate = await readValidRuleFile(file, ctx);
  if (candidate === undefined) return 1;
  const preview = await previewRuleSet(await ctx.store({ readonlyFallback: true }), candidate, { calendar: ctx.calendar, now, sampleSize });
  if (values.json) {
    ctx.out(JSON.stringify(preview));
    return 0;
  }
  const against = preview.activeVersion === 0 ? "no active rules" : `active version ${preview.activeVersion}`;
  ctx.out(`preview of ${file} against ${against}: ${preview.evaluated} customers evaluated as of ${ctx.calendar.isoDate(now)}`);
  for (const rule of preview.rules) {
    ctx.out(`  ${rule.ruleId} (${rule.status}): ${rule.before} → ${rule.after} customers (+${rule.addedCount} −${rule.removedCount})`);
    for (const c of rule.added) ctx.out(`      + ${c.name} (${c.customerId}): ${c.explanation}`);
    if (rule.addedCount > rule.added.length) ctx.out(`      + … ${rule.addedCount - rule.added.length} more`);
    for (const c of rule.removed) ctx.out(`      − ${c.name} (${c.customerId})`);
    if (rule.removedCount > rule.removed.length) ctx.out(`      − … ${rule.removedCount - rule.removed.length} more`);
  }
  ctx.out("nothing was written: apply the file with keepwarm rules apply");
  return 0;
};

export const rulesBacktestCommand: Run<typeof rulesBacktestArgs> = async (values, ctx) => {
  const { file } = values;
  const days = parseWholeNumber(values.days, "--days", 1, BACKTEST_MAX_DAYS);
  const sampleSize = values.sample === undefined ? 5 : parseWholeNumber(values.sample, "--sample", 0, MAX_SAMPLE);
  const now = asOf(values["as-of"], ctx);
  const candidate = await readValidRuleFile(file, ctx);
  if (candidate === undefined) return 1;
  const report = await backtestRuleSet(await ctx.store({ readonlyFallback: true }), candidate, {
    calendar: ctx.calendar,
    days,
    now,
    sampleSize,
    onProgress: (done, total) => ctx.progress(`backtest: day ${done}/${total}`),
  });
  ctx.progress("");
  if (values.json) {
    ctx.out(JSON.stringify(report));
    return 0;
  }
  ctx.out(`backtest of ${file}: ${plural(report.days, "day")} (${report.from} → ${report.to}), ${report.evaluations} customer-days evaluated`);
  for (const rule of report.rules) {
    ctx.out(
      `  ${rule.ruleId}: ${plural(rule.fired, "nudge")} for ${plural(rule.customers, "customer")}; touched within 7 days: ${rule.touchedWithin7Days}${percent(rule.touchedWithin7Days, rule.fired)}; churned: ${rule.churned}${rule.heldOut > 0 ? `; held out: ${rule.heldOut}` : ""}`,
    );
    for (const week of rule.weeks) ctx.out(`      ${week.week}  fired ${week.fired}  touched ${week.touchedWithin7Days}  churned ${week.churned}`);
    for (const n of rule.sample) {
      const outcome = [n.touchedWithin7Days ? "touched within 7 days" : "", n.churned ? "churned" : "", n.heldOut ? "held out" : ""].filter(Boolean).join(", ");
      ctx.out(`      ${n.date}  ${n.name} (${n.customerId}): ${n.explanation}${outcome === "" ? "" : ` [${outcome}]`}`);
    }
  }
  const t = report.totals;
  ctx.out(
    `total: ${plural(t.fired, "nudge")} for ${plural(t.customers, "customer")}; touched within 7 days: ${t.touchedWithin7Days}${percent(t.touchedWithin7Days, t.fired)}; churned: ${t.churned}. Nothing was written.`,
  );
  return 0;
};
