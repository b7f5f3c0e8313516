import { Calendar } from "@keepwarm/rules";
import { enqueueOutbox, openStore, type Store, writeTransaction } from "@keepwarm/store";
import { migratedDatabase, TEST_ENGINE } from "@keepwarm/store/testing";
import { FakeSlack, tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvError, parseEnv, systemClock } from "@keepwarm/core";
import { CLAIM_TTL_MS, ChannelRateLimiter, type DeliveryPass, deliveryClient, SlackDelivery, type SlackDeliveryOptions } from "../src/index";
import { FakeClock, outboxRows, seedCustomers } from "./harness";

const MAX_PER_DAY = 10;
const REPS = ["U0R1", "U0R2", "U0R3", "U0R4"];

let tmp: ReturnType<typeof tempDir>;
let fake: FakeSlack;
let stores: Store[];
beforeEach(async () => {
  tmp = tempDir("keepwarm-replicas-");
  fake = await new FakeSlack().start();
  stores = [];
});
afterEach(async () => {
  for (const store of new Set(stores)) await store.close().catch(() => {});
  await fake.stop();
  tmp.cleanup();
});

/**
 * The database as two bots see it: two stores, two connection pools. On SQLite two
 * connections in ONE process cannot both write: better-sqlite3 waits for the other's
 * write lock synchronously, blocking the very event loop that would release it. So
 * side by side on SQLite the replicas share one connection (bots in separate
 * processes each have their own, and wait for each other normally).
 */
async function twoReplicas(sideBySide: boolean): Promise<[Store, Store]> {
  const location = await migratedDatabase(tmp, "replicas.db");
  const a = await openStore(location);
  const b = sideBySide && TEST_ENGINE === "sqlite" ? a : await openStore(location);
  stores.push(a, b);
  return [a, b];
}

/**
 * The backlog a sweep leaves: an open nudge per customer, each with a pending
 * "deliver" item. 15 nudges for each of four reps (over their daily budget), 10 for
 * a rule's channel and 10 ownerless ones for the fallback channel.
 */
async function backlog(store: Store, now = Date.now()): Promise<{ dm: Map<string, number[]>; channel: number[]; fallback: number[] }> {
  const seeds = [
    ...REPS.flatMap((rep) => Array.from({ length: 15 }, (_, i) => ({ id: `C-${rep}-${i}`, name: `${rep} customer ${i}`, owner: rep }))),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `C-VIP-${i}`, name: `VIP ${i}`, owner: "U0R1" })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `C-ORPHAN-${i}`, name: `Orphan ${i}`, owner: null })),
  ];
  await seedCustomers(store, seeds, now);
  const customers = await store.db.selectFrom("customers").select(["id", "external_id"]).orderBy("id").execute();
  const ids = await writeTransaction(store.db, async (trx) => {
    const rows = await trx
      .insertInto("nudges")
      .values(
        customers.map((c, i) => ({
          rule_id: "quiet",
          rule_set_version: 1,
          customer_id: c.id,
          status: "open" as const,
          priority: i % 3,
          explanation: "Last touch 40 days ago (rule: ≥ 30 days)",
          message: "Gone quiet",
          action: null,
          facts: "{}",
          held_out: 0,
          resolve_on_touch: 1,
          cooldown_days: 14,
          destination: c.external_id.startsWith("C-VIP-") ? "#vip" : "owner",
          sweep_run_id: null,
          last_touch_at: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(["id", "customer_id"])
      .execute();
    await enqueueOutbox(
      trx,
      rows.map((r) => ({ kind: "deliver", nudgeId: r.id })),
      now,
    );
    return rows;
  });
  const external = new Map(customers.map((c) => [c.id, c.external_id]));
  const of = (prefix: string) => ids.filter((n) => external.get(n.customer_id)?.startsWith(prefix)).map((n) => n.id);
  return { dm: new Map(REPS.map((rep) => [rep, of(`C-${rep}-`)])), channel: of("C-VIP-"), fallback: of("C-ORPHAN-") };
}

function replica(store: Store, options: Partial<SlackDeliveryOptions> = {}): SlackDelivery {
  return new SlackDelivery({
    store,
    client: deliveryClient("xoxb-test", fake.apiUrl),
    fallbackChannel: "#cs",
    digestThreshold: 3,
    maxNudgesPerDay: MAX_PER_DAY,
    calendar: new Calendar("UTC"),
    // Slack's pace is not under test here: each replica posts as fast as the fake answers.
    limiter: new ChannelRateLimiter(systemClock, 0, 0),
    // Small claims, so the two replicas share the backlog instead of one taking it all.
    passItems: 8,
    ...options,
  });
}

/** Passes until nothing is left for this replica; a pass that finds everything held by the other looks again shortly. */
async function drain(delivery: SlackDelivery): Promise<DeliveryPass[]> {
  const passes: DeliveryPass[] = [];
  for (let i = 0; i < 200; i++) {
    const pass = await delivery.runOnce();
    passes.push(pass);
    const worked = pass.delivered + pass.skipped + pass.failed + pass.deferred > 0;
    if (!worked && !pass.busy && !pass.more) break;
    if (!worked) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return passes;
}

/** Nudge ids in each message Slack holds (a digest lists several), by channel. */
function postedIds(): Map<string, number[][]> {
  const byChannel = new Map<string, number[][]>();
  for (const [channel, messages] of fake.messages) {
    byChannel.set(
      channel,
      messages.map((m) => {
        const payload = m.metadata?.event_payload ?? {};
        return typeof payload.nudge_ids === "string" ? payload.nudge_ids.split(",").map(Number) : [Number(payload.nudge_id)];
      }),
    );
  }
  return byChannel;
}

describe("two bots delivering from one database", () => {
  it("drain one backlog side by side: every nudge posted exactly once, each rep's budget and digest whole", async () => {
    const [a, b] = await twoReplicas(true);
    const expected = await backlog(a);
    const [passesA, passesB] = await Promise.all([drain(replica(a)), drain(replica(b))]);
    const delivered = (passes: DeliveryPass[]) => passes.reduce((sum, p) => sum + p.delivered, 0);
    // Both took part.
    expect(delivered(passesA)).toBeGreaterThan(0);
    expect(delivered(passesB)).toBeGreaterThan(0);

    const posted = postedIds();
    const all = [...posted.values()].flat(2);
    expect(new Set(all).size).toBe(all.length);
    // Each rep: one digest of the day's budget, highest priority first; the rest wait for tomorrow.
    for (const rep of REPS) {
      const messages = posted.get(`D${rep.slice(1)}`) ?? [];
      expect(messages).toHaveLength(1);
      expect(messages[0]).toHaveLength(MAX_PER_DAY);
      expect(expected.dm.get(rep)).toEqual(expect.arrayContaining(messages[0] ?? []));
    }
    // Channels are not budgeted: all ten in one digest each.
    const sorted = (ids: number[]) => [...ids].sort((x, y) => x - y);
    expect(posted.get(fake.channelId("vip"))?.map(sorted)).toEqual([sorted(expected.channel)]);
    expect(posted.get(fake.channelId("cs"))?.map(sorted)).toEqual([sorted(expected.fallback)]);
    expect(all).toHaveLength(REPS.length * MAX_PER_DAY + 20);

    const outbox = await outboxRows(a);
    expect(outbox.filter((o) => o.status === "done")).toHaveLength(all.length);
    expect(outbox.filter((o) => o.status === "pending" && o.lastError?.startsWith("nudge budget"))).toHaveLength(REPS.length * 5);
    expect(await a.db.selectFrom("outbox").select("id").where("claimed_by", "is not", null).execute()).toEqual([]);
  });

  it("a replica killed between Slack's answer and its commit: its claim runs out, the other finds the message and posts nothing twice", async () => {
    // One after the other here, so two connections are fine on SQLite too.
    const [a, b] = await twoReplicas(false);
    // Both replicas see one clock, so the claim runs out when the test says so.
    const clock = new FakeClock(Date.now());
    const expected = await backlog(a, clock.now());
    let killed = false;
    // The kill: the replica's database goes away with it, so it records nothing and releases no claim.
    const doomed = replica(a, {
      clock,
      afterPost: () => {
        killed = true;
        void a.close();
        throw new Error("SIGKILL");
      },
    });
    await expect(doomed.runOnce()).rejects.toThrow();
    expect(killed).toBe(true);
    expect(fake.callsOf("chat.postMessage").length).toBeGreaterThanOrEqual(1);

    const heldByDead = await b.db.selectFrom("outbox").select("id").where("claimed_by", "is not", null).orderBy("id").execute();
    expect(heldByDead.length).toBeGreaterThan(0);

    // Until the claim runs out the survivor works on the rest and leaves those items alone.
    const survivor = replica(b, { clock });
    await survivor.runOnce();
    const stillHeld = await b.db.selectFrom("outbox").select("id").where("claimed_by", "is not", null).where("status", "=", "pending").orderBy("id").execute();
    expect(stillHeld).toEqual(heldByDead);
    expect(fake.callsOf("conversations.history")).toHaveLength(0);
    clock.advance(CLAIM_TTL_MS);
    await drain(survivor);

    const posted = postedIds();
    const all = [...posted.values()].flat(2);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(REPS.length * MAX_PER_DAY + 20);
    // The message the killed replica posted was found in the conversation, not posted again.
    expect(fake.callsOf("conversations.history").length).toBeGreaterThanOrEqual(1);
    for (const rep of REPS) expect(posted.get(`D${rep.slice(1)}`)?.flat()).toHaveLength(MAX_PER_DAY);
    expect(expected.channel.every((id) => all.includes(id))).toBe(true);
  });

  it("KEEPWARM_DELIVERY_CLAIM_SECONDS sets the claim (default 60 s); under 30 s, shorter than a Slack call may take, it is refused in one line", () => {
    expect(parseEnv({}).KEEPWARM_DELIVERY_CLAIM_SECONDS * 1000).toBe(CLAIM_TTL_MS);
    expect(parseEnv({ KEEPWARM_DELIVERY_CLAIM_SECONDS: "30" }).KEEPWARM_DELIVERY_CLAIM_SECONDS).toBe(30);
    expect(() => parseEnv({ KEEPWARM_DELIVERY_CLAIM_SECONDS: "10" })).toThrow(EnvError);
    expect(() => parseEnv({ KEEPWARM_DELIVERY_CLAIM_SECONDS: "10" })).toThrow(/^KEEPWARM_DELIVERY_CLAIM_SECONDS="10": must be at least 30/);
    expect(() => parseEnv({ KEEPWARM_DELIVERY_CLAIM_SECONDS: "1.5" })).toThrow(/^KEEPWARM_DELIVERY_CLAIM_SECONDS="1.5": must be a whole number/);
  });
});
