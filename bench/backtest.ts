/**
 * Backtest benchmark: the 10 benchmark rules replayed over the past D days for N
 * customers (the sweep benchmark's data).
 *
 *   node --import tsx bench/backtest.ts [--customers 100000] [--days 90] [--profile realistic|stress] [--sample-days 5] [--db cache.db]
 *
 * Baselines, same run: the bare SQL fact scan at one instant, times D — the floor a
 * replay that rescans every day cannot beat — and the day-by-day replay it replaced
 * (backtest-reference.ts), timed on --sample-days days and scaled to D.
 */
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { backtestRuleSet } from "../packages/core/src/backtest";
import { backtestRuleSetDayByDay } from "../packages/core/src/backtest-reference";
import { prepareEvaluation, sweepColumns } from "../packages/core/src/facts/evaluation";
import { getActiveRuleSet } from "../packages/core/src/rule-sets";
import { Calendar } from "../packages/rules/src/index";
import { openStore, scanFactRows } from "../packages/store/src/index";
import { BENCH_NOW, generate, PROFILES, type Profile } from "./generate";
import { benchArgs, fmtInt, fmtS, intArg, machineLine, reportPhase, runPhase, table, tempDb } from "./lib";

const args = benchArgs({
  customers: { type: "string" },
  days: { type: "string" },
  "sample-days": { type: "string" },
  profile: { type: "string", default: "realistic" },
});
const script = fileURLToPath(import.meta.url);
const days = intArg(args.days, 90, "days");
const sampleDays = Math.min(days, intArg(args["sample-days"], 5, "sample-days"));
const profile = String(args.profile) as Profile;
if (!PROFILES.includes(profile)) {
  console.error(`--profile must be one of ${PROFILES.join(", ")}`);
  process.exit(1);
}

async function phase(name: string, db: string): Promise<void> {
  const store = await openStore(db);
  const calendar = new Calendar("UTC");
  const ruleSet = await getActiveRuleSet(store);
  if (ruleSet === undefined) throw new Error("no active rule set");
  if (name === "scan") {
    // The columns of the facts the rules use, as a sweep at that instant scans them.
    const at = BENCH_NOW - 45 * 86_400_000;
    const { columns } = sweepColumns(prepareEvaluation(ruleSet.ruleFile), at, calendar);
    await reportPhase(name, async () => {
      let rows = 0;
      for await (const chunk of scanFactRows(store, at, columns)) rows += chunk.length;
      return { evaluations: rows };
    });
  } else {
    const replay = name === "day-by-day" ? backtestRuleSetDayByDay : backtestRuleSet;
    await reportPhase(name, async () => {
      const report = await replay(store, ruleSet.ruleFile, { calendar, days, now: BENCH_NOW });
      return { evaluations: report.evaluations, fired: report.totals.fired };
    });
  }
  await store.close();
}

async function main(): Promise<void> {
  const customers = intArg(args.customers, 100_000, "customers");
  const temp = tempDb("keepwarm-bench-backtest-");
  const source = args.db === undefined ? temp.path : String(args.db);
  console.log(`backtest benchmark: ${fmtInt(customers)} customers (${profile} histories) × ${days} days, 10 rules; ${machineLine()}`);
  try {
    if (!existsSync(source)) {
      const g = await generate(source, customers, profile);
      console.log(`generated ${fmtInt(g.customers)} customers with histories in ${fmtS(g.ms)}`);
    } else console.log(`reusing the data generated in ${source}`);
    const db = `${temp.path}.work`;
    copyFileSync(source, db);
    const scan = runPhase(script, "scan", ["--db", db]);
    const dayByDay = runPhase(script, "day-by-day", ["--db", db, "--days", String(sampleDays)]);
    const backtest = runPhase(script, "backtest", ["--db", db, "--days", String(days)]);
    const floorMs = scan.wallMs * days;
    const scale = days / sampleDays;
    const evaluations = Number(backtest.evaluations);
    console.log(
      table([
        ["phase", "wall", "CPU", "customer-days/s", "peak RSS", "nudges fired"],
        [
          "baseline: one bare fact scan × days",
          fmtS(floorMs),
          fmtS(scan.cpuMs * days),
          fmtInt((Number(scan.evaluations) * days) / (floorMs / 1000)),
          `${scan.peakRssMiB} MiB`,
          "",
        ],
        [
          `reference: day-by-day replay (${sampleDays} days, scaled × ${scale.toFixed(0)})`,
          fmtS(dayByDay.wallMs * scale),
          fmtS(dayByDay.cpuMs * scale),
          fmtInt(Number(dayByDay.evaluations) / (dayByDay.wallMs / 1000)),
          `${dayByDay.peakRssMiB} MiB`,
          `(${fmtInt(Number(dayByDay.fired))} in ${sampleDays} days)`,
        ],
        [
          "backtestRuleSet (one pass)",
          fmtS(backtest.wallMs),
          fmtS(backtest.cpuMs),
          fmtInt(evaluations / (backtest.wallMs / 1000)),
          `${backtest.peakRssMiB} MiB`,
          fmtInt(Number(backtest.fired)),
        ],
      ]),
    );
    console.log(
      `${fmtInt(evaluations)} customer-days evaluated; one pass / floor = ${(backtest.wallMs / floorMs).toFixed(2)} (CPU ${(backtest.cpuMs / (scan.cpuMs * days)).toFixed(2)}); one pass / day-by-day = ${(backtest.wallMs / (dayByDay.wallMs * scale)).toFixed(2)}`,
    );
  } finally {
    temp.cleanup();
  }
}

if (args.phase !== undefined) await phase(String(args.phase), String(args.db));
else await main();
