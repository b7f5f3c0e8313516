import {
  emitPing,
  findWebhook,
  insertWebhook,
  listWebhooks,
  removeWebhook,
  retryFailedOutbox,
  type Store,
  WEBHOOK_EVENT_TYPES,
  type Webhook,
  type WebhookEventType,
  writeTransaction,
} from "@keepwarm/store";
import { z } from "zod";
import { UserError } from "../../errors";
import { newWebhookSecret } from "./signature";

/** The event types as a zod enum (the one list is WEBHOOK_EVENT_TYPES in the store). */
export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES);

const MAX_URL_LENGTH = 2000;

/** A receiver's URL as typed: http(s) with a host, no credentials in it, or one line saying what is wrong. */
export function parseWebhookUrl(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length > MAX_URL_LENGTH) throw new UserError(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserError(`"${trimmed.slice(0, 100)}" is not a URL (expected https://…)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new UserError(`${url.protocol.replace(/:$/, "")} URLs are not supported: use https:// (or http://)`);
  if (url.hostname === "") throw new UserError(`"${trimmed.slice(0, 100)}" has no host`);
  // It is printed by `webhooks list` and in logs: a password in it would be shown to anyone reading them.
  if (url.username !== "" || url.password !== "")
    throw new UserError("the URL carries a user name or password: keepwarm signs every request instead (see docs/api.md)");
  return url.toString();
}

/** `--events a,b` as typed: known event types, each once, or one line naming the unknown one. */
export function parseWebhookEvents(text: string): WebhookEventType[] {
  const names = [...new Set(text.split(",").map((name) => name.trim()))].filter((name) => name !== "");
  if (names.length === 0) throw new UserError(`--events is empty: name at least one of ${WEBHOOK_EVENT_TYPES.join(", ")}`);
  return names.map((name) => {
    const parsed = webhookEventType.safeParse(name);
    if (!parsed.success) throw new UserError(`unknown event "${name.slice(0, 60)}": events are ${WEBHOOK_EVENT_TYPES.join(", ")}`);
    return parsed.data;
  });
}

/** Add a webhook; returns it with its signing secret, shown this once (it stays stored to sign with). */
export async function addWebhook(store: Store, input: { url: string; events: string; now?: number }): Promise<{ webhook: Webhook; secret: string }> {
  const url = parseWebhookUrl(input.url);
  const events = parseWebhookEvents(input.events);
  const secret = newWebhookSecret();
  const webhook = await insertWebhook(store.db, { url, events, secret, now: input.now ?? Date.now() });
  return { webhook, secret };
}

export async function webhooks(store: Store): Promise<Webhook[]> {
  return listWebhooks(store.db);
}

/** A webhook id as typed (a positive integer), or one line. */
export function parseWebhookId(text: string): number {
  if (!/^\d{1,15}$/.test(text.trim())) throw new UserError(`"${text.slice(0, 40)}" is not a webhook id (keepwarm webhooks list shows them)`);
  return Number(text.trim());
}

async function liveWebhook(store: Store, id: number): Promise<Webhook> {
  const webhook = await findWebhook(store.db, id);
  if (webhook === undefined) throw new UserError(`no webhook ${id} (keepwarm webhooks list shows them)`);
  if (webhook.removed_at !== null) throw new UserError(`webhook ${id} was removed`);
  return webhook;
}

/** Remove a webhook: nothing more is queued for it, its waiting deliveries are skipped, its log stays. */
export async function removeWebhookById(store: Store, id: number, now = Date.now()): Promise<Webhook> {
  const webhook = await liveWebhook(store, id);
  await removeWebhook(store.db, id, now);
  return webhook;
}

/** Queue a webhook.ping for one webhook (sent by the running bot, api, start or worker); returns its event id. */
export async function testWebhook(store: Store, id: number, now = Date.now()): Promise<string> {
  await liveWebhook(store, id);
  return writeTransaction(store.db, (trx) => emitPing(trx, id, now));
}

/** Send failed webhook deliveries again (attempts start over); ids that are not failed webhook deliveries change nothing. */
export async function retryWebhookDeliveries(store: Store, target: { ids: number[] } | { allFailed: true }, now = Date.now()): Promise<number[]> {
  const outcome = await retryFailedOutbox(store.db, target, now, "webhook");
  if (outcome.notFound.length > 0) throw new UserError(`no webhook delivery ${outcome.notFound.join(", ")} (keepwarm webhooks log shows them)`);
  const [first] = outcome.notFailed;
  if (first !== undefined) throw new UserError(`webhook delivery ${first.id} is ${first.status}, not failed: only failed deliveries are retried`);
  return outcome.retried;
}
