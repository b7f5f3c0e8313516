import type { Calendar } from "@keepwarm/rules";
import { claimEvaluations, evaluationQueueDepth, queueEvaluation, type Store, writeTransaction } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyRuleSet as applyRules, dismissNudge, drainEvaluationQueue, ingestItems, isHeldOut, logTouch, runSweep } from "../src/index";
import { addCustomer, addNps, addTouch, daysBefore, type Fixture, freshStore, liveKeys, NOW, nudges, sweepAt, UTC } from "./sweep-fixtures";

let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
  await applyRules(fx.store, rulesText(), { author: "test", source: "test" });
});
afterEach(() => fx.close());

/** "nps-drop": the latest NPS ≤ 6 after one ≥ 9 (not resolved by a touch); "quiet": no touch for 30 days. */
function rulesText(holdoutPercent = 0): string {
  return JSON.stringify({
    rules: [
      {
        id: "nps-drop",
        name: "NPS dropped",
        conditions: {
          all: [
            { fact: "npsPrevious", operator: "greaterThanInclusive", value: 9 },
            { fact: "npsLatest", operator: "lessThanInclusive", value: 6 },
          ],
        },
        nudge: { message: "{{customer.name}}: NPS fell to {{npsLatest}}", resolveOnTouch: false, cooldownDays: 14, holdoutPercent },
      },
      {
        id: "quiet",
        name: "Quiet for 30 days",
        conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
        nudge: { message: "{{customer.name}} is quiet", cooldownDays: 14 },
      },
    ],
  });
}

const drain = (now = NOW, claimant = "test-drainer", calendar: Calendar = UTC) => drainEvaluationQueue(fx.store, { calendar, claimant, now });

/** A customer touched yesterday whose last NPS was a 9. */
async function happyCustomer(id: string): Promise<number> {
  const customer = await addCustomer(fx.store, { id, segment: "smb" });
  await addTouch(fx.store, customer, daysBefore(1));
  await addNps(fx.store, customer, 9, daysBefore(30));
  return customer;
}

/** An NPS response through the HTTP API's ingest (the same code path). */
const postNps = (customer: string, score: number, respondedAt = NOW - 60_000) =>
  ingestItems(fx.store, "nps", [{ customer_id: customer, score, responded_at: new Date(respondedAt).toISOString() }], { now: NOW, calendar: UTC });

const outboxOf = (store: Store) => store.db.selectFrom("outbox").select(["nudge_id as nudgeId", "kind", "status"]).orderBy("id").execute();

describe("real-time evaluation", () => {
  it("an NPS drop ingested by the API creates its nudge at once, with a delivery due now (not held for a sweep)", async () => {
    await happyCustomer("acme");
    const ingested = await postNps("acme", 2);
    expect(ingested.counts.created).toBe(1);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(1);

    const report = await drain();
    expect(report).toMatchObject({ claimed: 1, evaluated: 1, reopened: 0, expired: 0 });
    expect(report.created.map((m) => m.rule.id)).toEqual(["nps-drop"]);
    expect(await liveKeys(fx.store)).toEqual(["nps-drop acme"]);
    const [nudge] = await nudges(fx.store);
    expect(await outboxOf(fx.store)).toEqual([{ nudgeId: nudge?.id, kind: "deliver", status: "pending" }]);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(0);
    // The next sweep sees the same facts and plans nothing more.
    expect((await sweepAt(fx.store, NOW)).created).toBe(0);
  });

  it("an NPS response already present, or items with an error, queue nothing", async () => {
    await happyCustomer("acme");
    const bad = await ingestItems(
      fx.store,
      "nps",
      [
        { customer_id: "acme", score: 2, responded_at: new Date(NOW - 60_000).toISOString() },
        { customer_id: "acme", score: 11, responded_at: new Date(NOW).toISOString() },
      ],
      { now: NOW, calendar: UTC },
    );
    expect(bad.committed).toBe(false);
    const unknown = await ingestItems(fx.store, "purchases", [{ customer_id: "nobody", occurred_at: "2026-06-01" }], { now: NOW, calendar: UTC });
    expect(unknown.counts.invalid).toBe(1);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(0);

    await postNps("acme", 2);
    await drain();
    const repeat = await postNps("acme", 2);
    expect(repeat.counts.already_present).toBe(1);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(0);
  });

  it("dedupes with a nudge already open: a second drop plans nothing new", async () => {
    const acme = await happyCustomer("acme");
    await addNps(fx.store, acme, 3, daysBefore(2));
    expect((await sweepAt(fx.store, NOW)).created).toBe(1);
    // Another response: still a drop (9 before it? no: 3 then 4), so the open nudge must not double either way.
    await postNps("acme", 1);
    const report = await drain();
    expect(report.claimed).toBe(1);
    expect(report.created).toEqual([]);
    expect((await nudges(fx.store)).filter((n) => n.ruleId === "nps-drop")).toHaveLength(1);
  });

  it("honours the cooldown of a dismissed nudge", async () => {
    await happyCustomer("acme");
    await postNps("acme", 2, NOW - 120_000);
    await drain();
    const [nudge] = await nudges(fx.store);
    await dismissNudge(fx.store, nudge?.id as number, "U0OWNER1", null, NOW);
    // A new 9 then a new 2: the rule holds again, but the customer is inside the cooldown.
    await postNps("acme", 9, NOW - 60_000);
    await postNps("acme", 2, NOW - 30_000);
    const report = await drain();
    expect(report.claimed).toBe(1);
    expect(report.created).toEqual([]);
    expect(await liveKeys(fx.store)).toEqual([]);
  });

  it("records a held-out customer's nudge as the sweep does, and never queues its delivery", async () => {
    await applyRules(fx.store, rulesText(50), { author: "test", source: "test" });
    const ids = Array.from({ length: 40 }, (_, i) => `c-${i}`);
    const heldOut = ids.find((id) => isHeldOut("nps-drop", id, 50)) as string;
    const treated = ids.find((id) => !isHeldOut("nps-drop", id, 50)) as string;
    await happyCustomer(heldOut);
    await happyCustomer(treated);
    await postNps(heldOut, 2);
    await postNps(treated, 2);
    const report = await drain();
    expect(report.created.map((m) => [m.customerExternalId, m.heldOut]).sort()).toEqual(
      [
        [heldOut, true],
        [treated, false],
      ].sort(),
    );
    const rows = await fx.store.db
      .selectFrom("nudges")
      .innerJoin("customers as c", "c.id", "nudges.customer_id")
      .select(["c.external_id as id", "held_out as heldOut", "nudges.id as nudgeId"])
      .execute();
    expect(rows.map((r) => [r.id, r.heldOut]).sort()).toEqual(
      [
        [heldOut, 1],
        [treated, 0],
      ].sort(),
    );
    const delivered = rows.find((r) => r.id === treated)?.nudgeId;
    expect(await outboxOf(fx.store)).toEqual([{ nudgeId: delivered, kind: "deliver", status: "pending" }]);
  });

  it("a touch logged by a rep (Slack, CLI) re-evaluates the customer: a quiet nudge resolves and nothing new is planned", async () => {
    const acme = await addCustomer(fx.store, { id: "acme", segment: "smb" });
    await addTouch(fx.store, acme, daysBefore(40));
    expect((await sweepAt(fx.store, NOW)).created).toBe(1);
    const touch = await logTouch(fx.store, { customerId: acme, kind: "call", occurredAt: NOW - 60_000, source: "slack", loggedBy: "U0OWNER1", now: NOW });
    expect(touch.resolved).toHaveLength(1);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(1);
    const report = await drain();
    expect(report).toMatchObject({ claimed: 1, evaluated: 1, reopened: 0, expired: 0 });
    expect(report.created).toEqual([]);
    expect(await liveKeys(fx.store)).toEqual([]);
  });

  it("a better NPS expires the open drop nudge at once, and its rep's message is updated", async () => {
    await happyCustomer("acme");
    await postNps("acme", 2, NOW - 120_000);
    await drain();
    const [nudge] = await nudges(fx.store);
    await fx.store.db
      .updateTable("nudges")
      .set({ delivered_at: NOW })
      .where("id", "=", nudge?.id as number)
      .execute();
    await postNps("acme", 8, NOW - 60_000);
    const report = await drain();
    expect(report.expired).toBe(1);
    expect((await nudges(fx.store))[0]).toMatchObject({ status: "expired", closeReason: "conditions-cleared" });
    expect((await outboxOf(fx.store)).map((o) => o.kind)).toEqual(["deliver", "update"]);
  });

  it("a customer queued again while being evaluated stays queued for another pass", async () => {
    const acme = await happyCustomer("acme");
    await postNps("acme", 2);
    const claimed = await claimEvaluations(fx.store.db, { claimant: "a", now: NOW, limit: 10, ttlMs: 60_000 });
    expect(claimed.map((c) => c.customerId)).toEqual([acme]);
    // Claimed: no other drainer gets it, even when it is queued again meanwhile.
    await writeTransaction(fx.store.db, (trx) => queueEvaluation(trx, [acme], NOW));
    expect(await claimEvaluations(fx.store.db, { claimant: "b", now: NOW, limit: 10, ttlMs: 60_000 })).toEqual([]);
    // A claim that ran out (its drainer died) is taken over.
    const later = await claimEvaluations(fx.store.db, { claimant: "b", now: NOW + 60_001, limit: 10, ttlMs: 60_000 });
    expect(later.map((c) => c.customerId)).toEqual([acme]);
    expect(later[0]?.seq).toBe((claimed[0]?.seq ?? 0) + 1);
  });

  it("two drainers at once never claim the same customer", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push(await happyCustomer(`c-${i}`));
    await writeTransaction(fx.store.db, (trx) => queueEvaluation(trx, ids, NOW));
    const [a, b] = await Promise.all([
      claimEvaluations(fx.store.db, { claimant: "a", now: NOW, limit: 20, ttlMs: 60_000 }),
      claimEvaluations(fx.store.db, { claimant: "b", now: NOW, limit: 20, ttlMs: 60_000 }),
    ]);
    const taken = [...a, ...b].map((c) => c.customerId);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.length).toBe(30);
  });
});

describe("real-time evaluation under concurrent writes", () => {
  it("ingests naming the same customers in opposite orders, at once, all commit (no deadlock) and queue each customer once", async () => {
    const ids = ["d-0", "d-1", "d-2", "d-3", "d-4", "d-5"];
    for (const id of ids) await happyCustomer(id);
    const nps = (order: string[], k: number) =>
      ingestItems(
        fx.store,
        "nps",
        order.map((customer, i) => ({ customer_id: customer, score: 7, responded_at: new Date(NOW - 1_000 * (k * 10 + i + 1)).toISOString() })),
        { now: NOW, calendar: UTC },
      );
    const touches = (order: string[], k: number) =>
      ingestItems(
        fx.store,
        "touches",
        order.map((customer, i) => ({ customer_id: customer, occurred_at: new Date(NOW - 1_000 * (k * 10 + i + 1)).toISOString(), note: `t${k}` })),
        { now: NOW, calendar: UTC },
      );
    const reversed = [...ids].reverse();
    const results = await Promise.allSettled(
      Array.from({ length: 24 }, (_, k) => (k % 4 === 0 ? nps(ids, k) : k % 4 === 1 ? nps(reversed, k) : k % 4 === 2 ? touches(ids, k) : touches(reversed, k))),
    );
    expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect((await evaluationQueueDepth(fx.store.db)).queued).toBe(ids.length);
  });

  it("a pass that fails hands its customers back at once, not when its claim runs out", async () => {
    await happyCustomer("acme");
    await postNps("acme", 2);
    // A stored rule set the evaluation cannot load: the pass throws after its claim.
    const stored = await fx.store.db.selectFrom("rule_sets").select(["id", "json"]).where("active", "=", 1).executeTakeFirstOrThrow();
    await fx.store.db.updateTable("rule_sets").set({ json: "{ not json" }).where("id", "=", stored.id).execute();
    await expect(drain(NOW, "failing")).rejects.toThrow();
    await fx.store.db.updateTable("rule_sets").set({ json: stored.json }).where("id", "=", stored.id).execute();
    // Same instant: a claim left to run out would still hold the customer for a minute.
    const report = await drain(NOW, "next");
    expect(report).toMatchObject({ claimed: 1, evaluated: 1 });
  });
});

describe("real-time evaluation beside a running sweep", () => {
  it("a sweep whose facts predate the drop does not expire the nudge real-time evaluation created from it", async () => {
    await happyCustomer("acme");
    await postNps("acme", 2, NOW - 60_000);
    await drain(NOW);
    // The sweep read its facts before the response arrived (its instant is earlier).
    await sweepAt(fx.store, NOW - 120_000);
    expect(await liveKeys(fx.store)).toEqual(["nps-drop acme"]);
    expect(await outboxOf(fx.store)).toEqual([expect.objectContaining({ kind: "deliver" })]);
  });

  it("drops evaluated while a sweep of the same customers runs give one nudge per customer and rule", async () => {
    const customers: string[] = [];
    for (let i = 0; i < 120; i++) {
      customers.push(`r-${i}`);
      await happyCustomer(`r-${i}`);
    }
    // Half the drops are in before the sweep starts, half arrive while it runs.
    for (const id of customers.slice(0, 60)) await postNps(id, 2, NOW - 120_000);
    const sweep = runSweep(fx.store, { calendar: UTC, now: NOW, chunkSize: 10 });
    const drains = (async () => {
      for (const id of customers.slice(60)) {
        await postNps(id, 2, NOW - 120_000);
        await drain(NOW);
      }
      while ((await drain(NOW)).claimed > 0);
    })();
    const [swept] = await Promise.all([sweep, drains]);
    const all = await nudges(fx.store);
    const keys = all.filter((n) => n.ruleId === "nps-drop").map((n) => n.customer);
    expect(keys.sort()).toEqual([...customers].sort());
    expect(all.every((n) => n.status === "open")).toBe(true);
    expect(swept.created).toBeLessThanOrEqual(120);
  });
});
