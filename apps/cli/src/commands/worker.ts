import { startEvaluationLoop, startWebhookLoop, WebhookSender } from "@keepwarm/core";
import { startWorker } from "@keepwarm/worker";
import type { Run } from "../command";
import { nextSweepText } from "../local-time";
import { printNudges } from "../print-nudges";
import type { workerArgs } from "./index";

export const workerCommand: Run<typeof workerArgs> = async (values, ctx) => {
  const store = await ctx.store();
  const deliver = async () => {
    if (ctx.env.SLACK_BOT_TOKEN !== undefined) {
      const pass = await (await import("@keepwarm/bot")).deliverOnceToSlack(store, ctx.env, (m) => ctx.err(`[worker] slack: ${m}`));
      if (!pass.busy) ctx.err(`[worker] slack: ${pass.delivered} delivered, ${pass.updated} updated, ${pass.failed} failed`);
    } else {
      await printNudges(store, ctx);
    }
  };
  const worker = startWorker({ store, env: ctx.env, log: (line) => ctx.err(`[worker] ${line}`), afterSweep: deliver });
  // Between sweeps, customers whose facts just changed are re-evaluated and their nudges delivered at once.
  const evaluation = startEvaluationLoop(store, {
    calendar: ctx.calendar,
    log: (line) => ctx.err(`[worker] ${line}`),
    onChange: () => {
      deliver().catch((error: Error) => ctx.err(`[worker] delivery failed: ${error.message}`));
    },
  });
  // Handlers go in before the first sweep: a signal during --run-now must wait for it, not kill it.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      ctx.err(`[worker] ${signal}: finishing the current sweep, then stopping`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  ctx.err(`[worker] sweeping on "${ctx.env.KEEPWARM_SCHEDULE}" (${ctx.env.KEEPWARM_TZ}); ${nextSweepText(worker.nextRun(), ctx.calendar)}; Ctrl-C to stop`);
  // Webhooks go out from here too: a worker-only install (console delivery) still sends them.
  const log = (m: string) => ctx.err(`[worker] ${m}`);
  const webhooks = startWebhookLoop(new WebhookSender({ store, log }), { log });
  if (values["run-now"]) await worker.tick();
  await stopped;
  await evaluation.stop();
  await worker.stop();
  await webhooks.stop();
  return 0;
};
