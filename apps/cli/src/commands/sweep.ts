import { parseIsoInstant, runSweep, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import { printNudges } from "../print-nudges";
import type { sweepArgs } from "./index";

export const sweepCommand: Run<typeof sweepArgs> = async (values, ctx) => {
  const engine = values.engine ?? "compiled";
  if (engine !== "compiled" && engine !== "reference") throw new UserError(`--engine must be "compiled" or "reference"`);
  let now = Date.now();
  if (values["as-of"] !== undefined) {
    const asOf = parseIsoInstant(values["as-of"], ctx.calendar);
    if (asOf === undefined) throw new UserError(`--as-of "${values["as-of"]}" is not a date (YYYY-MM-DD)`);
    now = asOf;
  }
  const store = await ctx.store();
  const report = await runSweep(store, {
    calendar: ctx.calendar,
    now,
    dryRun: values["dry-run"] ?? false,
    engine,
    waitMs: 120_000,
    onProgress: (n) => ctx.progress(`sweeping: ${n.toLocaleString("en-US")} customers`),
  });
  ctx.progress("");
  if (values.json) {
    // Delivery is left to the worker or bot, so stdout stays pure JSON.
    ctx.out(
      JSON.stringify({
        runId: report.runId,
        dryRun: report.dryRun,
        ruleSetVersion: report.ruleSetVersion,
        evaluated: report.evaluated,
        matched: report.matched,
        created: report.created,
        reopened: report.reopened,
        expired: report.expired,
        heldOut: report.heldOut,
        nudges: report.nudges.map((n) => ({ ruleId: n.ruleId, customerId: n.customerId, status: n.status, heldOut: n.heldOut, explanation: n.explanation })),
      }),
    );
    return 0;
  }
  const verb = report.dryRun ? "would create" : "created";
  ctx.out(
    `sweep #${report.runId}${report.dryRun ? " (dry run)" : ""}: ${report.evaluated} customers evaluated against rules v${report.ruleSetVersion}; ${verb} ${report.created} nudge${report.created === 1 ? "" : "s"}${report.heldOut > 0 ? ` (${report.heldOut} held out)` : ""}, ${report.reopened} reopened after snooze, ${report.expired} expired`,
  );
  if (report.dryRun) {
    for (const n of report.nudges) ctx.out(`  ${n.ruleId}  ${n.customerName} (${n.customerId}): ${n.explanation}`);
    return 0;
  }
  if (ctx.env.SLACK_BOT_TOKEN !== undefined) {
    const pass = await (await import("@keepwarm/bot")).deliverOnceToSlack(store, ctx.env, (m) => ctx.err(`slack: ${m}`));
    ctx.out(
      pass.busy
        ? "nudges are queued; the running bot is delivering them to Slack"
        : `slack: ${pass.delivered} delivered, ${pass.updated} updated, ${pass.skipped} skipped, ${pass.failed} failed${pass.retrying > 0 ? `, ${pass.retrying} waiting to retry (the bot retries them)` : ""}${pass.deferred > 0 ? `, ${pass.deferred} held for tomorrow by KEEPWARM_MAX_NUDGES_PER_DAY` : ""}`,
    );
    return 0;
  }
  await printNudges(store, ctx);
  return 0;
};
