import { createApiHandler } from "@keepwarm/api";
import { startEvaluationLoop, startWebhookLoop, WebhookSender } from "@keepwarm/core";
import { closeServer, createHttpServer, listen } from "@keepwarm/bot";
import type { Run } from "../command";
import { exitSoonAfterStop, untilSignal } from "./bot";
import type { apiArgs } from "./index";

/** The HTTP API alone (no Slack): /api/v1 and /healthz on PORT, and the webhook sender. */
export const apiCommand: Run<typeof apiArgs> = async (values, ctx) => {
  const store = await ctx.store();
  const api = createApiHandler({
    store,
    calendar: ctx.calendar,
    rateLimit: ctx.env.KEEPWARM_API_RATE_LIMIT,
    onError: (error) => ctx.err(`[api] error: ${(error as Error).message}`),
  });
  const server = createHttpServer({ store, now: () => Date.now(), api });
  const stopped = untilSignal(ctx, "api");
  // Ingested events re-evaluate their customers here; the nudges wait in the outbox for the bot (or worker) to deliver.
  const evaluation = startEvaluationLoop(store, { calendar: ctx.calendar, log: (line) => ctx.err(`[api] ${line}`) });
  try {
    const port = await listen(server, ctx.env.PORT, values.host);
    ctx.err(`[api] listening on port ${port}: /api/v1 (OpenAPI at /api/v1/openapi.json), GET /healthz; sending webhooks; Ctrl-C to stop`);
    const webhooks = startWebhookLoop(new WebhookSender({ store, log: (m) => ctx.err(`[api] ${m}`) }), { log: (m) => ctx.err(`[api] ${m}`) });
    await stopped;
    await webhooks.stop();
    await closeServer(server);
    return 0;
  } finally {
    await evaluation.stop();
    exitSoonAfterStop();
  }
};
