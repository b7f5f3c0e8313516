import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startWebhookLoop, type WebhookLoop } from "@keepwarm/core";
import { insertWebhook, webhookLog } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, sweep, waitUntil } from "./harness";

let h: Harness | undefined;
let loop: WebhookLoop | undefined;
const held: ServerResponse[] = [];
const receiver = createServer((_req, res) => {
  // Never answers: a receiver that hangs.
  held.push(res);
});
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await loop?.stop();
  loop = undefined;
  await h?.close();
  h = undefined;
});

describe("webhooks beside Slack delivery", { timeout: 60_000 }, () => {
  it("a receiver that hangs delays no Slack post: nudges reach Slack while its requests are held, then they time out and wait for a retry", async () => {
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    h = await startHarness({ customers: Array.from({ length: 6 }, (_, i) => ({ id: `C-${i}`, name: `Customer ${i}`, owner: `U0REP${i}` })) });
    // The bot's webhook sender on its delivery clock, in its loop, as `keepwarm bot` runs it
    // (the harness drives delivery by hand and starts neither loop).
    loop = startWebhookLoop(h.bot.webhooks);
    await insertWebhook(h.store.db, { url, events: ["nudge.created", "nudge.delivered"], secret: "whsec_test", now: h.clock.now() });
    await sweep(h.store);
    await waitUntil(async () => held.length >= 1, 5000);
    const started = Date.now();
    const pass = await h.bot.delivery.runOnce();
    const slackMs = Date.now() - started;
    expect(pass.delivered).toBe(6);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(6);
    // Every request the receiver got is still unanswered: Slack did not wait for any of them.
    expect(held.length).toBeGreaterThanOrEqual(1);
    const log = await webhookLog(h.store.db, { limit: 100 });
    expect(log.filter((e) => e.attempts > 0)).toEqual([]);
    expect(slackMs).toBeLessThan(4000);
    // The sender gives up on the request after 5 s: recorded, due again after the backoff.
    await waitUntil(async () => (await webhookLog(h?.store.db as never, { limit: 100 })).some((e) => e.lastError === "no answer within 5 s"), 15_000);
    const after = await webhookLog(h.store.db, { limit: 100 });
    // nudge.delivered events were queued by Slack's delivery itself, in its transaction.
    expect(after.filter((e) => e.type === "nudge.delivered")).toHaveLength(6);
    expect(after.filter((e) => e.type === "nudge.created")).toHaveLength(6);
    expect(after.filter((e) => e.attempts > 0).every((e) => e.status === "pending" && e.nextAttemptAt !== null)).toBe(true);
  });
});
