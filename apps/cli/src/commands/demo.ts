import { ensureActiveRuleSet, generateDemoData, runSweep, UserError } from "@keepwarm/core";
import { clearDemoTables, countCustomers, demoMarker, liveNudgeCountsByRule } from "@keepwarm/store";
import { parse } from "../args";
import type { Context } from "../context";
import { printNudges } from "../print-nudges";

const USAGE = "keepwarm demo [--reset] [--customers N]";

export async function demoCommand(args: string[], ctx: Context): Promise<number> {
  const { values } = parse(args, { reset: { type: "boolean" }, customers: { type: "string" } }, USAGE);
  const customers = values.customers === undefined ? 300 : Number(values.customers);
  if (!Number.isInteger(customers) || customers < 10 || customers > 100_000) throw new UserError("--customers must be a whole number from 10 to 100000");
  const store = await ctx.store();
  const count = await countCustomers(store.db);
  const demoMark = await demoMarker(store.db);
  if (count > 0 && demoMark === undefined) {
    throw new UserError(`${store.display} already holds real data; run the demo on its own database: KEEPWARM_DB=./data/demo.db pnpm keepwarm demo`);
  }
  const now = Date.now();
  if (count === 0 || values.reset) {
    await clearDemoTables(store.db);
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
  const byRule = await liveNudgeCountsByRule(store.db);
  ctx.out("");
  ctx.out(`open nudges by rule: ${byRule.map((r) => `${r.ruleId} ${r.n}`).join(", ")}`);
  if (delivery.delivered === 0) ctx.out("(no new nudges this time: the open ones were delivered by an earlier run)");
  ctx.out('next: log a touch and watch its nudge resolve, e.g.  pnpm keepwarm touch C-0001 call today "checked in"');
  return 0;
}
