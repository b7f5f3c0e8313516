import { DEFAULT_STATS_DAYS, ensureActiveRuleSet, generateDemoData, noisyRulesWithSuggestions, runSweep, UserError } from "@keepwarm/core";
import { clearDemoInstall, demoInstallState, liveNudgesByRule } from "@keepwarm/store";
import { parse } from "../args";
import type { Context } from "../context";
import { printNudges } from "../print-nudges";

const USAGE = "keepwarm demo [--reset] [--customers N]";

export async function demoCommand(args: string[], ctx: Context): Promise<number> {
  const { values } = parse(args, { reset: { type: "boolean" }, customers: { type: "string" } }, USAGE);
  const customers = values.customers === undefined ? 300 : Number(values.customers);
  if (!Number.isInteger(customers) || customers < 10 || customers > 100_000) throw new UserError("--customers must be a whole number from 10 to 100000");
  const store = await ctx.store();
  const { customers: count, demoCreatedAt: demoMark } = await demoInstallState(store.db);
  if (count > 0 && demoMark === undefined) {
    throw new UserError(`${store.display} already holds real data; run the demo on its own database: KEEPWARM_DB=./data/demo.db pnpm keepwarm demo`);
  }
  const now = Date.now();
  if (count === 0 || values.reset) {
    await clearDemoInstall(store.db);
    const totals = await generateDemoData(store, { now, customers });
    ctx.out(
      `demo data: ${totals.customers} customers, ${totals.touches} touches, ${totals.nps} NPS responses, ${totals.purchases} purchases (in ${store.display})`,
    );
  } else {
    ctx.out(`using the demo data created ${demoMark} (pass --reset to start over)`);
  }
  const ruleSet = await ensureActiveRuleSet(store);
  const report = await runSweep(store, { calendar: ctx.calendar, now, waitMs: 30_000 });
  ctx.out(`sweep #${report.runId}: ${report.evaluated} customers against rules v${ruleSet.version} (${ruleSet.ruleFile.rules.map((r) => r.id).join(", ")})`);
  ctx.out(`${report.created} new nudges, ${report.expired} expired`);
  const delivery = await printNudges(store, ctx, now);
  const byRule = await liveNudgesByRule(store.db);
  ctx.out("");
  ctx.out(`open nudges by rule: ${byRule.map((r) => `${r.ruleId} ${r.n}`).join(", ")}`);
  if (delivery.delivered === 0) ctx.out("(no new nudges this time: the open ones were delivered by an earlier run)");
  for (const { noise, suggestion } of await noisyRulesWithSuggestions(store, { calendar: ctx.calendar, now, days: DEFAULT_STATS_DAYS })) {
    ctx.out(`noisy rule ${noise.ruleId}: ${noise.evidence.join("; ")}`);
    const p = suggestion?.proposed;
    if (suggestion === null || p === null || p === undefined) continue;
    const share = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);
    const c = suggestion.current;
    const t = suggestion.threshold;
    ctx.out(
      `  suggestion: ${t.fact} ${t.operator} ${p.value} instead of ${t.value}; backtest over ${suggestion.days} days: ${c.nudgesPerWeek.toFixed(1)} → ${p.nudgesPerWeek.toFixed(1)} nudges/week, touched within 7 days ${share(c.touchedShare)} → ${share(p.touchedShare)}, ${p.missedChurned.length} later-churned customers missed`,
    );
    ctx.out(`  review it: pnpm keepwarm rules suggest ${noise.ruleId} --out proposal.json, then rules diff / preview / apply proposal.json`);
  }
  ctx.out('next: log a touch and watch its nudge resolve, e.g.  pnpm keepwarm touch C-0001 call today "checked in"');
  return 0;
}
