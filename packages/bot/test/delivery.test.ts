import { logTouch } from "@keepwarm/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, NOW, outboxRows, REP, startHarness, sweep } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const outbox = async (h: Harness) => (await outboxRows(h.store)).map(({ kind, status, attempts, lastError }) => ({ kind, status, attempts, lastError }));
const nudges = (h: Harness) =>
  h.store.db.selectFrom("nudges").select(["id", "status", "slack_channel as channel", "slack_ts as ts", "delivered_at as deliveredAt"]).orderBy("id").execute();
const pendingCount = async (h: Harness) => (await outboxRows(h.store)).filter((o) => o.status === "pending").length;
const customerId = async (h: Harness, externalId: string) =>
  (await h.store.db.selectFrom("customers").select("id").where("external_id", "=", externalId).executeTakeFirstOrThrow()).id;

describe("Slack delivery from the outbox", () => {
  it("posts each nudge once, by DM to the owner, with the nudge id in the metadata", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme Corp" },
        { id: "C-2", name: "Globex", owner: "U0OTHER" },
      ],
    });
    await sweep(h.store);
    const first = await h.bot.delivery.runOnce();
    expect(first.delivered).toBe(2);
    const again = await h.bot.delivery.runOnce();
    expect(again.delivered).toBe(0);
    const posts = h.fake.callsOf("chat.postMessage");
    expect(posts).toHaveLength(2);
    expect(
      h.fake
        .callsOf("conversations.open")
        .map((c) => c.args.users)
        .sort(),
    ).toEqual(["U0OTHER", REP]);
    const acme = h.fake.messages.get("D0REP")?.[0];
    expect(acme?.text).toContain("Acme Corp");
    expect(acme?.metadata?.event_type).toBe("keepwarm_nudge");
    const ids = await nudges(h);
    expect(acme?.metadata?.event_payload.nudge_id).toBe(ids[0]?.id);
    expect(ids.every((n) => n.channel?.startsWith("D") && n.ts !== null && n.deliveredAt !== null)).toBe(true);
    expect((await outbox(h)).every((o) => o.status === "done")).toBe(true);
  });

  it("renders customer, why, context and the three buttons", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme <Corp> & Co" }] });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    const blocks = JSON.stringify(h.fake.allMessages()[0]?.blocks);
    expect(blocks).toContain("Acme &lt;Corp&gt; &amp; Co");
    expect(blocks).toContain("*Why:*");
    expect(blocks).toMatch(/Owner: <@U0REP>.*Segment: smb.*Last touch: (never|\d+ days ago)/);
    for (const action of ["nudge_log_touch", "nudge_snooze", "nudge_dismiss"]) expect(blocks).toContain(action);
    expect(blocks).toContain('"value":"1:3"');
    expect(blocks).toContain('"value":"1:30"');
  });

  it("routes ownerless nudges to KEEPWARM_FALLBACK_CHANNEL, and skips them with a reason without it", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan Inc", owner: null }], env: { KEEPWARM_FALLBACK_CHANNEL: "#cs-team" } });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    expect(h.fake.messagesIn("cs-team")).toHaveLength(1);
    await h.close();

    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan Inc", owner: null }] });
    await sweep(h.store);
    const pass = await h.bot.delivery.runOnce();
    expect(pass.skipped).toBe(1);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(0);
    expect((await outbox(h))[0]).toMatchObject({ status: "skipped", lastError: "no owner and no KEEPWARM_FALLBACK_CHANNEL" });
  });

  it("sends several nudges for one rep as ONE digest and records the same ts on each", async () => {
    h = await startHarness({ customers: [1, 2, 3, 4].map((i) => ({ id: `C-${i}`, name: `Customer ${i}` })) });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    const posts = h.fake.callsOf("chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(String(posts[0]?.args.text)).toContain("4 customers need attention");
    const rows = await nudges(h);
    expect(new Set(rows.map((r) => r.ts)).size).toBe(1);
    expect(rows.every((r) => r.ts !== null)).toBe(true);
  });

  it("does not post again after a crash between Slack accepting and the database recording", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme Corp" },
        { id: "C-2", name: "Globex" },
      ],
    });
    await sweep(h.store);
    const crashing = new (h.bot.delivery.constructor as typeof import("../src/index").SlackDelivery)({
      store: h.store,
      client: (await import("../src/index")).deliveryClient("xoxb-test", h.fake.apiUrl),
      digestThreshold: 3,
      clock: h.clock,
      afterPost: () => {
        throw new Error("simulated crash");
      },
    });
    await expect(crashing.runOnce()).rejects.toThrow("simulated crash");
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(1);
    expect((await outbox(h)).filter((o) => o.status === "pending")).toHaveLength(2);
    // "Restart": a fresh delivery finds the posted message in the conversation and records it.
    const pass = await h.bot.delivery.runOnce();
    expect(pass.delivered).toBe(2);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(2);
    expect(h.fake.callsOf("conversations.history").length).toBeGreaterThanOrEqual(1);
    expect(String(h.fake.callsOf("conversations.history")[0]?.args.include_all_metadata)).toBe("true");
    const posted = h.fake.allMessages();
    expect(new Set(posted.map((m) => m.metadata?.event_payload.nudge_id)).size).toBe(2);
    const rows = await nudges(h);
    expect(rows.map((r) => r.ts).sort()).toEqual(posted.map((m) => m.ts).sort());
  });

  it("waits out a 429 storm: nothing is sent before Retry-After, then each nudge exactly once", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme Corp" },
        { id: "C-2", name: "Globex", owner: "U0B" },
        { id: "C-3", name: "Initech", owner: "U0C" },
      ],
    });
    await sweep(h.store);
    h.fake.failNext("chat.postMessage", 5, { status: 429, retryAfter: 7 });
    let passes = 0;
    while ((await pendingCount(h)) > 0 && passes < 20) {
      const before = h.fake.callsOf("chat.postMessage").length;
      const pass = await h.bot.delivery.runOnce();
      passes++;
      if (pass.delivered === 0 && h.fake.callsOf("chat.postMessage").length > before) {
        // Right after a 429, a pass at the same instant must not call Slack at all.
        const calls = h.fake.calls.length;
        await h.bot.delivery.runOnce();
        expect(h.fake.calls.length).toBe(calls);
        expect(h.bot.delivery.resumeAt).toBe(h.clock.now() + 7000);
      }
      if ((await pendingCount(h)) === 0) break;
      h.clock.advance(7000);
    }
    const posts = h.fake.callsOf("chat.postMessage");
    expect(posts).toHaveLength(5 + 3);
    expect(h.fake.allMessages()).toHaveLength(3);
    expect((await outbox(h)).every((o) => o.status === "done")).toBe(true);
    // A 429 is a definite "not posted": no reconciliation reads were needed.
    expect(h.fake.callsOf("conversations.history")).toHaveLength(0);
  });

  it("survives a 5xx outage with exponential backoff, one bounded look-up per unknown outcome, and no duplicate", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    h.fake.failNext("chat.postMessage", 4, { status: 503 });
    const pauses: number[] = [];
    for (let i = 0; i < 30 && (await pendingCount(h)) > 0; i++) {
      const posts = h.fake.callsOf("chat.postMessage").length;
      await h.bot.delivery.runOnce();
      if (h.fake.callsOf("chat.postMessage").length > posts && (await pendingCount(h)) > 0) {
        pauses.push(h.bot.delivery.resumeAt - h.clock.now());
        expect((await outbox(h))[0]).toMatchObject({ status: "pending", lastError: "HTTP 503 from Slack" });
      }
      const next = Number((await outboxRows(h.store))[0]?.nextAttemptAt);
      h.clock.t = Math.max(h.clock.now(), next, h.bot.delivery.resumeAt);
    }
    expect(pauses).toEqual([2000, 4000, 8000, 16000]);
    expect(h.fake.allMessages()).toHaveLength(1);
    expect((await outbox(h))[0]).toMatchObject({ status: "done", attempts: 5 });
    // Each 503 left an unknown outcome, settled by one narrow look-up, a minute apart at least.
    const lookups = h.fake.callsOf("conversations.history");
    expect(lookups).toHaveLength(4);
    for (const call of lookups) {
      expect(Number(call.args.limit)).toBeLessThanOrEqual(15);
      expect(Number(call.args.latest) - Number(call.args.oldest)).toBeLessThanOrEqual(30);
    }
  });

  it("keeps about one message per second per channel without really sleeping", async () => {
    h = await startHarness({
      customers: [1, 2, 3].map((i) => ({ id: `C-${i}`, name: `Orphan ${i}`, owner: null })),
      env: { KEEPWARM_FALLBACK_CHANNEL: "#cs", KEEPWARM_DIGEST_THRESHOLD: "10" },
    });
    await sweep(h.store);
    const started = Date.now();
    await h.bot.delivery.runOnce();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.fake.messagesIn("cs")).toHaveLength(3);
    expect(h.clock.sleeps).toEqual([1100, 1100]);
  });

  it("paces each channel on its own: two reps' DMs go out side by side, not one channel after the other", async () => {
    h = await startHarness({
      customers: [1, 2, 3].flatMap((i) => [
        { id: `C-A${i}`, name: `Alpha ${i}` },
        { id: `C-B${i}`, name: `Beta ${i}`, owner: "U0OTHER" },
      ]),
      env: { KEEPWARM_DIGEST_THRESHOLD: "10" },
    });
    await sweep(h.store);
    const pass = await h.bot.delivery.runOnce();
    expect(pass.delivered).toBe(6);
    const channels = h.fake.callsOf("chat.postMessage").map((c) => String(c.args.channel));
    expect(channels).toHaveLength(6);
    // Side by side: the second channel's first message does not wait for all of the first channel's.
    const firstOfSecond = channels.findIndex((c) => c !== channels[0]);
    expect(firstOfSecond).toBeLessThan(3);
    expect(new Set(channels).size).toBe(2);
    expect(h.clock.sleeps.filter((ms) => ms >= 1000)).toHaveLength(4);
  });

  it("marks a refusal from Slack (channel_not_found) failed instead of retrying forever", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan", owner: null }], env: { KEEPWARM_FALLBACK_CHANNEL: "C0GONE" } });
    await sweep(h.store);
    h.fake.failNext("chat.postMessage", 1, { error: "channel_not_found" });
    const pass = await h.bot.delivery.runOnce();
    expect(pass.failed).toBe(1);
    expect((await outbox(h))[0]).toMatchObject({ status: "failed", lastError: "slack error channel_not_found" });
  });

  it("resolves a channel name to its id once (conversations.list) and fails a name Slack does not know, saying so", async () => {
    h = await startHarness({
      customers: [1, 2].map((i) => ({ id: `C-${i}`, name: `Orphan ${i}`, owner: null })),
      env: { KEEPWARM_FALLBACK_CHANNEL: "#cs-team", KEEPWARM_DIGEST_THRESHOLD: "10" },
    });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    expect(h.fake.callsOf("chat.postMessage").map((c) => c.args.channel)).toEqual(["C0CSTEAM", "C0CSTEAM"]);
    expect(h.fake.callsOf("conversations.list")).toHaveLength(1);
    expect(await h.store.db.selectFrom("slack_channels").select(["name", "channel_id"]).where("name", "=", "cs-team").execute()).toEqual([
      { name: "cs-team", channel_id: "C0CSTEAM" },
    ]);
    await h.close();

    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan", owner: null }], env: { KEEPWARM_FALLBACK_CHANNEL: "#gone" } });
    await sweep(h.store);
    expect((await h.bot.delivery.runOnce()).failed).toBe(1);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(0);
    expect((await outbox(h))[0]).toMatchObject({
      status: "failed",
      lastError: "channel #gone not found (conversations.list): archived, renamed, or private without the bot",
    });
  });

  it("updates the message in place, buttons removed, when the nudge is resolved", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    await logTouch(h.store, { customerId: await customerId(h, "C-1"), kind: "call", occurredAt: NOW, source: "slack", loggedBy: REP, now: NOW });
    const pass = await h.bot.delivery.runOnce();
    expect(pass.updated).toBe(1);
    const update = h.fake.callsOf("chat.update")[0];
    expect(update?.args.ts).toBe((await nudges(h))[0]?.ts);
    const message = h.fake.allMessages()[0];
    expect(JSON.stringify(message?.blocks)).toContain("✅ call logged by <@U0REP>");
    expect(JSON.stringify(message?.blocks)).not.toContain("nudge_log_touch");
  });

  it("updates a digest in place: the resolved customer shows its state, the others keep their buttons", async () => {
    h = await startHarness({ customers: [1, 2, 3].map((i) => ({ id: `C-${i}`, name: `Customer ${i}` })) });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    await logTouch(h.store, { customerId: await customerId(h, "C-2"), kind: "email", occurredAt: NOW, source: "modal", loggedBy: REP, now: NOW });
    await h.bot.delivery.runOnce();
    const blocks = JSON.stringify(h.fake.allMessages()[0]?.blocks);
    expect(blocks).toContain("2 of 3 still open");
    expect(blocks).toContain("✅ email logged by <@U0REP>");
    expect(blocks.match(/nudge_log_touch/g)).toHaveLength(2);
  });

  it("keeps answering slash commands while delivery waits on a channel's rate limit", async () => {
    h = await startHarness({
      customers: [1, 2].map((i) => ({ id: `C-${i}`, name: `Orphan ${i}`, owner: null })),
      env: { KEEPWARM_FALLBACK_CHANNEL: "#cs", KEEPWARM_DIGEST_THRESHOLD: "10" },
    });
    await sweep(h.store);
    // This clock really waits, as in production.
    h.clock.sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 1500)));
    const pass = h.bot.delivery.runOnce();
    await h.fake.waitFor(() => h.fake.callsOf("chat.postMessage").length === 1);
    const started = Date.now();
    const res = await h.command("/keepwarm", "stats");
    await h.response(res.responseId);
    expect(Date.now() - started).toBeLessThan(700);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(1);
    await pass;
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(2);
  });
});
