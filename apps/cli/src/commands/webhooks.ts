import { addWebhook, parseWebhookId, removeWebhookById, retryWebhookDeliveries, testWebhook, UserError, webhooks } from "@keepwarm/core";
import { webhookAttempts, webhookLog } from "@keepwarm/store";
import type { Run } from "../command";
import type { webhooksAddArgs, webhooksListArgs, webhooksLogArgs, webhooksRemoveArgs, webhooksRetryArgs, webhooksTestArgs } from "./index";
import { parseWholeNumber } from "./rule-file-input";

const iso = (ms: number | null) => (ms === null ? "—" : new Date(ms).toISOString().slice(0, 19).replace("T", " "));
const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const webhooksAddCommand: Run<typeof webhooksAddArgs> = async (values, ctx) => {
  const { webhook, secret } = await addWebhook(await ctx.store(), { url: values.url, events: values.events });
  if (values.json) ctx.out(JSON.stringify({ id: webhook.id, url: webhook.url, events: webhook.events.split(","), secret }));
  else {
    // The secret alone on stdout, so SECRET=$(keepwarm webhooks add …) captures just it.
    ctx.out(secret);
    ctx.err(
      `webhook ${webhook.id} → ${webhook.url} (${webhook.events}): the signing secret above is shown once; the receiver verifies Keepwarm-Signature with it (docs/api.md)`,
    );
  }
  return 0;
};

export const webhooksListCommand: Run<typeof webhooksListArgs> = async (values, ctx) => {
  const all = await webhooks(await ctx.store({ readonlyFallback: true }));
  if (values.json) {
    ctx.out(
      JSON.stringify(
        all.map((w) => ({ id: w.id, url: w.url, events: w.events.split(","), createdAt: isoOrNull(w.created_at), removedAt: isoOrNull(w.removed_at) })),
      ),
    );
    return 0;
  }
  if (all.length === 0) ctx.out("no webhooks; add one with keepwarm webhooks add URL --events nudge.created,nudge.resolved");
  for (const w of all)
    ctx.out(`${String(w.id).padStart(4)}  ${w.url}  ${w.events}  created ${iso(w.created_at)}${w.removed_at === null ? "" : `  REMOVED ${iso(w.removed_at)}`}`);
  return 0;
};

export const webhooksRemoveCommand: Run<typeof webhooksRemoveArgs> = async (values, ctx) => {
  const webhook = await removeWebhookById(await ctx.store(), parseWebhookId(values.id));
  ctx.out(`removed webhook ${webhook.id} (${webhook.url}): nothing more is sent to it; keepwarm webhooks log --webhook ${webhook.id} keeps its deliveries`);
  return 0;
};

export const webhooksTestCommand: Run<typeof webhooksTestArgs> = async (values, ctx) => {
  const id = parseWebhookId(values.id);
  const eventId = await testWebhook(await ctx.store(), id);
  ctx.out(
    `queued webhook.ping ${eventId} for webhook ${id}: the running bot, api, start or worker sends it; keepwarm webhooks log --webhook ${id} shows the answer`,
  );
  return 0;
};

export const webhooksLogCommand: Run<typeof webhooksLogArgs> = async (values, ctx) => {
  const limit = values.limit === undefined ? 50 : parseWholeNumber(values.limit, "--limit", 1, 100_000);
  const webhookId = values.webhook === undefined ? undefined : parseWebhookId(values.webhook);
  const store = await ctx.store({ readonlyFallback: true });
  const entries = await webhookLog(store.db, { webhookId, failed: values.failed === true, limit });
  if (values.json) {
    const attempts = await webhookAttempts(
      store.db,
      entries.map((e) => e.deliveryId),
    );
    ctx.out(
      JSON.stringify(
        entries.map((e) => ({
          id: e.deliveryId,
          webhookId: e.webhookId,
          url: e.url,
          eventId: e.eventId,
          type: e.type,
          status: e.status,
          attempts: e.attempts,
          lastHttpStatus: e.lastHttpStatus,
          lastError: e.lastError,
          nextAttemptAt: isoOrNull(e.nextAttemptAt),
          deliveredAt: isoOrNull(e.deliveredAt),
          createdAt: isoOrNull(e.createdAt),
          tries: attempts
            .filter((a) => a.deliveryId === e.deliveryId)
            .map((a) => ({ attempt: a.attempt, at: isoOrNull(a.startedAt), durationMs: a.durationMs, httpStatus: a.httpStatus, error: a.error })),
        })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (entries.length === 0) ctx.out(values.failed ? "no failed webhook deliveries" : "no webhook deliveries yet");
  for (const e of entries) {
    const answer = e.lastHttpStatus === null ? (e.lastError ?? "—") : e.lastError === null ? `HTTP ${e.lastHttpStatus}` : e.lastError;
    const when = e.status === "done" ? `delivered ${iso(e.deliveredAt)}` : e.status === "pending" ? `next attempt ${iso(e.nextAttemptAt)}` : e.status;
    ctx.out(`${String(e.deliveryId).padStart(6)}  webhook ${e.webhookId}  ${e.type.padEnd(15)} ${e.eventId}  attempts ${e.attempts}  ${answer}  ${when}`);
  }
  return 0;
};

export const webhooksRetryCommand: Run<typeof webhooksRetryArgs> = async (values, ctx) => {
  const words = values._;
  if ((values["all-failed"] ?? false) === words.length > 0)
    throw new UserError("give delivery ids or --all-failed (one of the two; see keepwarm webhooks retry --help)");
  const ids = words.map((word) => {
    const id = Number(word.replace(/^#/, ""));
    if (!Number.isInteger(id) || id < 1) throw new UserError(`"${word}" is not a delivery id (a number from keepwarm webhooks log)`);
    return id;
  });
  const retried = await retryWebhookDeliveries(await ctx.store(), values["all-failed"] ? { allFailed: true } : { ids });
  ctx.out(
    retried.length === 0
      ? "no failed webhook deliveries"
      : `re-queued ${retried.length} deliver${retried.length === 1 ? "y" : "ies"}: the running bot, api, start or worker sends them`,
  );
  return 0;
};
