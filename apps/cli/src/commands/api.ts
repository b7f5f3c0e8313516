import { createApiHandler } from "@keepwarm/api";
import { closeServer, createHttpServer, listen } from "@keepwarm/bot";
import { parse } from "../args";
import type { Context } from "../context";
import { exitSoonAfterStop, untilSignal } from "./bot";

/** The HTTP API alone (no Slack): /api/v1 and /healthz on PORT. */
export async function apiCommand(args: string[], ctx: Context): Promise<number> {
  const { values } = parse(args, { host: { type: "string" } }, "keepwarm api [--host 127.0.0.1]");
  const store = await ctx.store();
  const api = createApiHandler({
    store,
    calendar: ctx.calendar,
    rateLimit: ctx.env.KEEPWARM_API_RATE_LIMIT,
    onError: (error) => ctx.err(`[api] error: ${(error as Error).message}`),
  });
  const server = createHttpServer({ store, now: () => Date.now(), api });
  const stopped = untilSignal(ctx, "api");
  try {
    const port = await listen(server, ctx.env.PORT, values.host);
    ctx.err(`[api] listening on port ${port}: /api/v1 (OpenAPI at /api/v1/openapi.json), GET /healthz; Ctrl-C to stop`);
    await stopped;
    await closeServer(server);
    return 0;
  } finally {
    exitSoonAfterStop();
  }
}
