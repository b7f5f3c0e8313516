import { createApp } from "@keepwarm/bot";
import { parse } from "../args";
import type { Context } from "../context";

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

export async function botCommand(args: string[], ctx: Context): Promise<number> {
  parse(args, {}, "keepwarm bot");
  const store = await ctx.store();
  const bot = createApp({
    store,
    env: ctx.env,
    logger: { info: (m) => ctx.err(`[bot] ${m}`), warn: (m) => ctx.err(`[bot] warning: ${m}`), error: (m) => ctx.err(`[bot] error: ${m}`) },
  });
  const stopped = untilSignal(ctx, "bot");
  const port = await bot.start(ctx.env.PORT);
  ctx.err(
    bot.mode === "socket"
      ? `[bot] connected in Socket Mode; /healthz on port ${port}; Ctrl-C to stop`
      : `[bot] listening on port ${port}: POST /slack/events, GET /healthz; Ctrl-C to stop`,
  );
  await stopped;
  await bot.stop();
  return 0;
}
