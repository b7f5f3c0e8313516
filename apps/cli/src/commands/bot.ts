import { type BotApp, createApp } from "@keepwarm/bot";
import type { Run } from "../command";
import type { Context } from "../context";
import type { botArgs } from "./index";

/** Resolves on the first SIGINT or SIGTERM, so the caller can shut down cleanly. */
export function untilSignal(ctx: Context, tag: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      ctx.err(`[${tag}] ${signal}: stopping`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/**
 * Start the bot, unless a signal comes first: its HTTP server listens at once, while the
 * start waits (bounded) for Slack. Returns the port, or undefined when stopped meanwhile.
 * A refused token or a busy PORT rejects with its one line.
 */
export async function startBot(bot: BotApp, port: number, stopped: Promise<void>): Promise<number | undefined> {
  const started = bot.start(port);
  const first = await Promise.race([started.then((p) => ({ port: p })), stopped.then(() => undefined)]);
  if (first === undefined) {
    // Stopping also abandons the Slack checks in flight, so the start settles promptly.
    await bot.stop();
    await started.catch(() => {});
    return undefined;
  }
  return first.port;
}

/** Until a signal, or a token Slack refuses later on (then that error, for the one-line exit). */
export async function runUntilStopped(bot: BotApp, stopped: Promise<void>): Promise<void> {
  const failure = await Promise.race([stopped.then(() => undefined), bot.failed]);
  await bot.stop();
  if (failure !== undefined) throw failure;
}

/**
 * After a clean stop nothing should keep the process alive; if something does (a Slack
 * request that never answers, a socket that never closes), it must not turn SIGTERM
 * into a hang: exit anyway after a short grace.
 */
export function exitSoonAfterStop(code = 0): void {
  setTimeout(() => process.exit(process.exitCode ?? code), 3_000).unref();
}

export const botCommand: Run<typeof botArgs> = async (_args, ctx) => {
  const store = await ctx.store();
  const bot = createApp({
    store,
    env: ctx.env,
    logger: { info: (m) => ctx.err(`[bot] ${m}`), warn: (m) => ctx.err(`[bot] warning: ${m}`), error: (m) => ctx.err(`[bot] error: ${m}`) },
  });
  const stopped = untilSignal(ctx, "bot");
  try {
    const port = await startBot(bot, ctx.env.PORT, stopped);
    if (port === undefined) return 0;
    const slack = bot.slackStatus();
    ctx.err(
      bot.mode === "socket"
        ? slack === "ok"
          ? `[bot] connected in Socket Mode; /healthz on port ${port}; Ctrl-C to stop`
          : `[bot] Socket Mode: not connected yet (${slack}); /healthz on port ${port}; Ctrl-C to stop`
        : `[bot] listening on port ${port}: POST /slack/events, GET /healthz; Slack: ${slack}; Ctrl-C to stop`,
    );
    await runUntilStopped(bot, stopped);
    return 0;
  } finally {
    exitSoonAfterStop();
  }
};
