import { createApp } from "@keepwarm/bot";
import { startEvaluationLoop, startWebhookLoop, WebhookSender } from "@keepwarm/core";
import { startWorker } from "@keepwarm/worker";
import type { Run } from "../command";
import { nextSweepText } from "../local-time";
import { printNudges } from "../print-nudges";
import { exitSoonAfterStop, runUntilStopped, startBot, untilSignal } from "./bot";
import type { startArgs } from "./index";

/** Bot and worker in one process; without SLACK_BOT_TOKEN, the worker alone with console delivery. */
export const startCommand: Run<typeof startArgs> = async (values, ctx) => {
  const store = await ctx.store();
  const log = {
    info: (m: string) => ctx.err(`[bot] ${m}`),
    warn: (m: string) => ctx.err(`[bot] warning: ${m}`),
    error: (m: string) => ctx.err(`[bot] error: ${m}`),
  };
  const bot = ctx.env.SLACK_BOT_TOKEN === undefined ? undefined : createApp({ store, env: ctx.env, logger: log });
  const stopped = untilSignal(ctx, "start");
  try {
    // The bot runs the webhook sender itself; without it, this process does.
    const webhooks =
      bot === undefined
        ? startWebhookLoop(new WebhookSender({ store, log: (m) => ctx.err(`[start] ${m}`) }), { log: (m) => ctx.err(`[start] ${m}`) })
        : undefined;
    if (bot === undefined) ctx.err("[start] SLACK_BOT_TOKEN is not set: running the worker only, nudges print to the console");
    else {
      const port = await startBot(bot, ctx.env.PORT, stopped);
      if (port === undefined) return 0;
      ctx.err(`[bot] ${bot.mode === "socket" ? "Socket Mode" : "HTTP"}; port ${port}; Slack: ${bot.slackStatus()}`);
    }
    const worker = startWorker({
      store,
      env: ctx.env,
      log: (line) => ctx.err(`[worker] ${line}`),
      afterSweep: async () => {
        if (bot !== undefined) bot.kickDelivery();
        else await printNudges(store, ctx);
      },
    });
    // With the bot, its own loop drains the real-time queue; without, nudges it plans print here.
    const evaluation =
      bot === undefined
        ? startEvaluationLoop(store, {
            calendar: ctx.calendar,
            log: (line) => ctx.err(`[worker] ${line}`),
            onChange: () => {
              printNudges(store, ctx).catch((error: Error) => ctx.err(`[worker] ${error.message}`));
            },
          })
        : undefined;
    ctx.err(`[worker] sweeping on "${ctx.env.KEEPWARM_SCHEDULE}" (${ctx.env.KEEPWARM_TZ}); ${nextSweepText(worker.nextRun(), ctx.calendar)}; Ctrl-C to stop`);
    try {
      if (values["run-now"]) await worker.tick();
      if (bot === undefined) await stopped;
      else await runUntilStopped(bot, stopped);
    } finally {
      await evaluation?.stop();
      await worker.stop();
      await webhooks?.stop();
    }
    return 0;
  } finally {
    exitSoonAfterStop();
  }
};
