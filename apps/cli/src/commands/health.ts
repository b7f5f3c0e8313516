import {
  CALIBRATION_HORIZON_DAYS,
  CALIBRATION_MAX_DAYS,
  type CalibrationReport,
  aucText,
  aucVerdict,
  calibrateHealth,
  getActiveRuleSet,
  parseIsoInstant,
  UserError,
} from "@keepwarm/core";
import type { Run } from "../command";
import type { healthCalibrateArgs } from "./index";
import { parseWholeNumber, readValidRuleFile } from "./rule-file-input";

const pct = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)} %`);
function textReport(r: CalibrationReport): string[] {
  const lines = [
    `health calibration: ${r.snapshots} snapshots every ${r.everyDays} days, ${r.from} → ${r.to}; churn counted within ${r.horizonDays} days of each`,
    `  ${r.observations} scored customer-snapshots of ${r.customers} customers; ${r.churned} churned within ${r.horizonDays} days (${pct(r.observations === 0 ? null : r.churned / r.observations)})`,
    `  ROC AUC of the score: ${aucText(r.score)}: ${aucVerdict(r.score)}`,
    `  (1 = low scores always churned first, 0.5 = chance; interval: bootstrap over customers, ${r.resamples} resamples, seed ${r.seed})`,
    `  churn within ${r.horizonDays} days by grade:`,
  ];
  for (const g of r.grades) {
    const interval = g.interval === null ? "" : `  (95 % CI ${pct(g.interval[0])}–${pct(g.interval[1])})`;
    lines.push(
      `    ${g.grade}  ${String(g.observations).padStart(8)} snapshots  ${String(g.churned).padStart(6)} churned  ${pct(g.churnRate).padStart(8)}${interval}`,
    );
  }
  lines.push("  which components carry the signal (each one's band score alone):");
  for (const c of r.components) lines.push(`    ${c.name.padEnd(24)} AUC ${aucText(c)}  (${c.observations} snapshots with a value)`);
  return lines;
}

export const healthCalibrateCommand: Run<typeof healthCalibrateArgs> = async (values, ctx) => {
  const days = values.days === undefined ? 365 : parseWholeNumber(values.days, "--days", CALIBRATION_HORIZON_DAYS + 1, CALIBRATION_MAX_DAYS);
  const everyDays = values.every === undefined ? 7 : parseWholeNumber(values.every, "--every", 1, 90);
  const resamples = values.resamples === undefined ? 200 : parseWholeNumber(values.resamples, "--resamples", 0, 10_000);
  const seed = values.seed === undefined ? 1 : parseWholeNumber(values.seed, "--seed", 0, 2 ** 31);
  let now = Date.now();
  if (values["as-of"] !== undefined) {
    const at = parseIsoInstant(values["as-of"], ctx.calendar);
    if (at === undefined) throw new UserError(`--as-of "${values["as-of"]}" is not a date (YYYY-MM-DD)`);
    now = at;
  }
  const store = await ctx.store({ readonlyFallback: true });
  const ruleFile = values.file === undefined ? (await getActiveRuleSet(store))?.ruleFile : await readValidRuleFile(values.file, ctx);
  if (values.file !== undefined && ruleFile === undefined) return 1;
  if (ruleFile === undefined) throw new UserError("no rules are active yet: run keepwarm init, or give --file RULES.json");
  const report = await calibrateHealth(store, ruleFile, {
    calendar: ctx.calendar,
    days,
    everyDays,
    now,
    resamples,
    seed,
    onProgress: (done, total) => ctx.progress(`calibrate: ${done}/${total} customers`),
  });
  ctx.progress("");
  if (values.json) ctx.out(JSON.stringify(report));
  else for (const line of textReport(report)) ctx.out(line);
  return 0;
};
