import { logTouch, snoozeNudge } from "@keepwarm/core";
import { DAY_MS } from "@keepwarm/store";
import type { FakeSlack } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { CLAIM_TTL_MS, type DeliveryGap, deliveryClient, SlackDelivery } from "../src/index";
import { type Harness, NOW, outboxRows, REP, startHarness, sweep } from "./harness";

/**
 * Exactly once under faults, against a fake Slack that enforces the 2025 history limits
 * (one conversations.history call a minute, 15 messages): every scenario counts the
 * messages in Slack per nudge and expects exactly the right number.
 */
let h: Harness;
afterEach(async () => {
  h?.fake.unhang();
  await h?.close();
});

/** Messages in Slack per nudge id (a digest counts for each of its nudges). */
function postsPerNudge(fake: FakeSlack): Map<number, number> {
  const counts = new Map<number, number>();
  for (const message of fake.allMessages()) {
    if (message.metadata?.event_type !== "keepwarm_nudge") continue;
    const payload = message.metadata.event_payload;
    const ids = typeof payload.nudge_ids === "string" ? payload.nudge_ids.split(",").map(Number) : [Number(payload.nudge_id)];
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

async function nudgeIds(h: Harness): Promise<number[]> {
  return (await h.store.db.selectFrom("nudges").select("id").orderBy("id").execute()).map((row) => row.id);
}

async function expectEachPostedOnce(h: Harness): Promise<void> {
  const ids = await nudgeIds(h);
  const counts = postsPerNudge(h.fake);
  expect(ids.map((id) => [id, counts.get(id) ?? 0])).toEqual(ids.map((id) => [id, 1]));
}

const pending = async (h: Harness) => (await outboxRows(h.store)).filter((o) => o.status === "pending");

/** Another delivery process on the same database (its own claimant), with a short Slack timeout. */
function process2(h: Harness, gap?: (gap: DeliveryGap, nudgeIds: number[]) => Promise<void> | void): SlackDelivery {
  return new SlackDelivery({
    store: h.store,
    client: deliveryClient("xoxb-test", h.fake.apiUrl, 400),
    digestThreshold: 10,
    clock: h.clock,
    ...(gap ? { gap } : {}),
  });
}

/**
 * Run passes until nothing is pending (bounded), moving the fake clock to when the next
 * item is due. Records the longest pause of the whole delivery (resumeAt - now) and
 * the longest time a due item waited while others were delivered.
 */
async function drain(h: Harness, delivery: SlackDelivery, maxPasses = 200): Promise<{ passes: number; longestPause: number }> {
  let longestPause = 0;
  let passes = 0;
  for (; passes < maxPasses; passes++) {
    await delivery.runOnce();
    longestPause = Math.max(longestPause, delivery.resumeAt - h.clock.now());
    const left = await pending(h);
    if (left.length === 0) break;
    const next = Math.min(...left.map((o) => Number(o.nextAttemptAt)));
    h.clock.t = Math.max(h.clock.now(), next, delivery.resumeAt);
  }
  return { passes, longestPause };
}

const customers = (count: number, owner = (i: number) => `U0REP${i}`) =>
  Array.from({ length: count }, (_, i) => ({ id: `C-${i}`, name: `Customer ${i}`, owner: owner(i) }));

describe("delivery under faults: every nudge posted exactly once", () => {
  it("slow answers past the claim TTL: the claim is renewed, a second process running meanwhile posts nothing", async () => {
    h = await startHarness({ customers: customers(6, () => REP), env: { KEEPWARM_DIGEST_THRESHOLD: "10" } });
    await sweep(h.store);
    const other = process2(h);
    let otherPass: Awaited<ReturnType<SlackDelivery["runOnce"]>> | undefined;
    let posts = 0;
    // Each post takes 13 s of Slack's time: six of them outlive the 60 s claim.
    h.fake.onCall = async (call) => {
      if (call.method !== "chat.postMessage") return;
      h.clock.advance(13_000);
      if (++posts === 5) otherPass = await other.runOnce();
    };
    const first = await h.bot.delivery.runOnce();
    expect(h.clock.now() - NOW).toBeGreaterThan(CLAIM_TTL_MS);
    expect(first.delivered).toBe(6);
    expect(otherPass).toMatchObject({ delivered: 0, busy: true });
    await expectEachPostedOnce(h);
  });

  it("a 503 then a refused history look-up (not_in_channel): posted once, not failed", async () => {
    h = await startHarness({ customers: customers(1) });
    await sweep(h.store);
    h.fake.failNext("chat.postMessage", 1, { status: 503 });
    h.fake.failNext("conversations.history", 1, { error: "not_in_channel" });
    await drain(h, h.bot.delivery);
    await expectEachPostedOnce(h);
    expect((await outboxRows(h.store))[0]).toMatchObject({ status: "done" });
    expect(h.fake.callsOf("conversations.history")).toHaveLength(1);
  });

  it("a post Slack kept but answered 503: one narrow look-up finds it, nothing is posted again", async () => {
    h = await startHarness({ customers: customers(1) });
    await sweep(h.store);
    h.fake.failNext("chat.postMessage", 1, { lost: true });
    await drain(h, h.bot.delivery);
    await expectEachPostedOnce(h);
    const [lookup] = h.fake.callsOf("conversations.history");
    expect(lookup?.args).toMatchObject({ channel: "D0REP0", limit: "15", include_all_metadata: "true", inclusive: "true" });
    expect(Number(lookup?.args.latest) - Number(lookup?.args.oldest)).toBeLessThanOrEqual(30);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(1);
  });

  it("an outage (5xx for minutes): backs off 2 s, 4 s, 8 s … with one probe per step, then posts each nudge once", async () => {
    h = await startHarness({ customers: customers(8) });
    await sweep(h.store);
    // Every lane meets the outage in the first pass; four more calls fail after it.
    h.fake.failNext("chat.postMessage", 8 + 4, { status: 503 });
    const pauses: number[] = [];
    for (let i = 0; i < 200 && (await pending(h)).length > 0; i++) {
      const before = h.fake.callsOf("chat.postMessage").length;
      await h.bot.delivery.runOnce();
      const pause = h.bot.delivery.resumeAt - h.clock.now();
      if (pause > 0 && h.fake.callsOf("chat.postMessage").length > before) pauses.push(pause);
      const left = await pending(h);
      if (left.length === 0) break;
      h.clock.t = Math.max(h.clock.now(), Math.min(...left.map((o) => Number(o.nextAttemptAt))), h.bot.delivery.resumeAt);
    }
    expect(pauses).toEqual([2000, 4000, 8000, 16000, 32000]);
    // Each failed call is tried again once it is settled: 12 failures, 8 successes, no other call.
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(20);
    await expectEachPostedOnce(h);
    // One look-up per unknown outcome, never two within a minute (the fake would answer 429).
    expect(h.fake.callsOf("conversations.history")).toHaveLength(12);
  });

  it("a hang: the post is kept, the answer never comes; the nudge resolved meanwhile loses its buttons once the message is found", async () => {
    h = await startHarness({ customers: customers(1) });
    await sweep(h.store);
    const delivery = process2(h);
    h.fake.failNext("chat.postMessage", 1, { hang: true });
    await delivery.runOnce();
    expect((await pending(h))[0]).toMatchObject({ attempts: 1, lastError: expect.stringContaining("request failed") });
    const customer = await h.store.db.selectFrom("customers").select("id").executeTakeFirstOrThrow();
    await logTouch(h.store, { customerId: customer.id, kind: "call", occurredAt: h.clock.now(), source: "slack", loggedBy: REP, now: h.clock.now() });
    await drain(h, delivery);
    await expectEachPostedOnce(h);
    const [message] = h.fake.allMessages();
    expect(JSON.stringify(message?.blocks)).toContain(`✅ call logged by <@${REP}>`);
    expect(JSON.stringify(message?.blocks)).not.toContain("nudge_log_touch");
    expect(h.fake.callsOf("chat.update")).toHaveLength(1);
  });

  for (const gap of ["claimed", "intent", "answered"] as const) {
    it(`a process killed in the gap "${gap}": a new process on the same database posts what is missing, once`, async () => {
      h = await startHarness({ customers: customers(3, () => REP), env: { KEEPWARM_DIGEST_THRESHOLD: "10" } });
      await sweep(h.store);
      let reached = false;
      // A promise that never settles: the process is gone at that point, its claim left to expire.
      const dying = process2(h, async (at) => {
        if (at !== gap || reached) return;
        reached = true;
        await new Promise(() => {});
      });
      void dying.runOnce();
      await h.fake.waitFor(() => reached);
      const restarted = process2(h);
      // Before the claim expires the items are the dead process's.
      expect((await restarted.runOnce()).busy).toBe(true);
      h.clock.advance(CLAIM_TTL_MS + 1);
      const { longestPause } = await drain(h, restarted);
      await expectEachPostedOnce(h);
      expect(longestPause).toBeLessThanOrEqual(5_000);
      expect(h.fake.callsOf("conversations.history").length).toBeLessThanOrEqual(1);
    });
  }

  it("a snoozed nudge's re-delivery is told apart from its first delivery: a 503 on it never counts the original message", async () => {
    h = await startHarness({ customers: customers(1) });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    const [nudgeId] = await nudgeIds(h);
    const original = h.fake.allMessages()[0]?.ts;
    await snoozeNudge(h.store, nudgeId ?? 0, 3, REP, h.clock.now());
    await h.bot.delivery.runOnce();
    // The snooze ends; the next sweep reopens the nudge and delivers it again.
    h.clock.advance(4 * DAY_MS);
    await sweep(h.store, h.clock.now());
    h.fake.failNext("chat.postMessage", 1, { status: 503 });
    await drain(h, h.bot.delivery);
    expect(postsPerNudge(h.fake).get(nudgeId ?? 0)).toBe(2);
    const row = await h.store.db
      .selectFrom("nudges")
      .select(["slack_ts", "status"])
      .where("id", "=", nudgeId ?? 0)
      .executeTakeFirstOrThrow();
    expect(row.slack_ts).not.toBe(original);
    expect(row.slack_ts).toBe(h.fake.allMessages()[1]?.ts);
  });

  it("unknown outcomes in several channels wait for the history allowance one by one, without pausing other deliveries", async () => {
    h = await startHarness({ customers: customers(6) });
    await sweep(h.store);
    // The first three reps' posts are kept but answered 503; the other three go through.
    h.fake.failNext("chat.postMessage", 3, { lost: true });
    const delivery = process2(h);
    const first = await delivery.runOnce();
    // All six lanes go side by side: the three that got through are delivered at once.
    expect(first.delivered).toBe(3);
    const { longestPause } = await drain(h, delivery);
    await expectEachPostedOnce(h);
    // Three look-ups, a minute apart at least on Slack's clock: the fake would have refused sooner ones.
    const lookups = h.fake.callsOf("conversations.history");
    expect(lookups).toHaveLength(3);
    // Delivery as a whole never stopped for the allowance: only outage backoff (2 s after the first 503s).
    expect(longestPause).toBeLessThanOrEqual(5_000);
  });
});
