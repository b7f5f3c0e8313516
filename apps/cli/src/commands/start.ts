import { createApp } from "@keepwarm/bot";
import { startWorker } from "@keepwarm/worker";
import { parse } from "../args";
import type { Context } from "../context";
import { printNudges } from "../print-nudges";
import { untilSignal } from "./bot";

/** Bot and worker in one process; without SLACK_BOT_TOKEN, the worker alone with console delivery. */
export async function startCommand(args: string[], ctx: Context): Promise<number> {
  const { values } = parse(args, { "run-now": { type: "boolean" } }, "keepwarm start [--run-now]");
  const store = await ctx.store();
  const log = {
    info: (m: string) => ctx.err(`[bot] ${m}`),
    warn: (m: string) => ctx.err(`[bot] warning: ${m}`),
    error: (m: string) => ctx.err(`[bot] error: ${m}`),
  };
  const bot = ctx.env.SLACK_BOT_TOKEN === undefined ? undefined : createApp({ store, env: ctx.env, logger: log });
  const stopped = untilSignal(ctx, "start");
  if (bot === undefined) ctx.err("[start] SLACK_BOT_TOKEN is not set: running the worker only, nudges print to the console");
  else ctx.err(`[bot] ${bot.mode === "socket" ? "Socket Mode" : "HTTP"}; port ${await bot.start(ctx.env.PORT)}`);
  const worker = startWorker({
    store,
    env: ctx.env,
    log: (line) => ctx.err(`[worker] ${line}`),
    afterSweep: async () => {
      if (bot !== undefined) bot.kickDelivery();
      else await printNudges(store, ctx);
    },
  });
  ctx.err(`[worker] sweeping on "${ctx.env.KEEPWARM_SCHEDULE}" (${ctx.env.KEEPWARM_TZ}); Ctrl-C to stop`);
  if (values["run-now"]) await worker.tick();
  await stopped;
  await worker.stop();
  await bot?.stop();
  return 0;
}
