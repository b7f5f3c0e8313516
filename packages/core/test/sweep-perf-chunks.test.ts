import { failInserts } from "@keepwarm/store/testing/faults";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dismissNudge } from "../src/index";
import { addCustomer, addTouch, daysBefore, type Fixture, freshStore, liveKeys, NOW, nudges, sweepAt } from "./sweep-fixtures";

/*
 * The sweep works a chunk of customers at a time (bounded memory at a million
 * customers), one write transaction per chunk, deliveries held until the sweep ends.
 * These tests cross chunk boundaries with tiny chunks.
 */

let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
});
afterEach(() => fx.close());

const outboxStatuses = () =>
  fx.store.db
    .selectFrom("outbox")
    .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .orderBy("status")
    .execute();

/** Ten smb customers; the even ones were last touched 40 days ago (no-contact holds), the odd ones yesterday. */
async function tenCustomers(): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) {
    const id = await addCustomer(fx.store, { id: `K${i}` });
    await fx.store.db.updateTable("customers").set({ segment: "smb" }).where("id", "=", id).execute();
    await addTouch(fx.store, id, daysBefore(i % 2 === 0 ? 40 : 1));
    ids.push(id);
  }
  return ids;
}

describe("chunked sweep", () => {
  it("plans across chunk boundaries exactly as in one chunk, and a rerun creates nothing", async () => {
    await tenCustomers();
    const report = await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(report).toMatchObject({ evaluated: 10, matched: 5, created: 5, expired: 0 });
    expect(await liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K4", "no-contact K6", "no-contact K8"]);
    expect(report.nudges.map((n) => n.customerId)).toEqual(["K0", "K2", "K4", "K6", "K8"]);
    expect((await sweepAt(fx.store, NOW, { chunkSize: 3 })).created).toBe(0);
    expect((await sweepAt(fx.store, NOW, { chunkSize: 1000 })).created).toBe(0);
    expect(await nudges(fx.store)).toHaveLength(5);
  });

  it("expires the live nudge of a customer who churned, in the middle of a chunk range or after the last row", async () => {
    const ids = await tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    // K4 sits inside a chunk's id range, K8 after the last customer the scan returns.
    const churn = (id: number | undefined) =>
      fx.store.db
        .updateTable("customers")
        .set({ churned_at: daysBefore(1) })
        .where("id", "=", id as number)
        .execute();
    await churn(ids[4]);
    await churn(ids[8]);
    await fx.store.db
      .deleteFrom("customers")
      .where("id", "=", ids[9] as number)
      .execute();
    const report = await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(report).toMatchObject({ evaluated: 7, created: 0, expired: 2 });
    expect(await liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K6"]);
    const expired = (await nudges(fx.store)).filter((n) => n.status === "expired");
    expect(expired.map((n) => [n.customer, n.closeReason])).toEqual([
      ["K4", "conditions-cleared"],
      ["K8", "conditions-cleared"],
    ]);
  });

  it("respects a cooldown found in a later chunk", async () => {
    await tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    const k6 = (await nudges(fx.store)).find((n) => n.customer === "K6");
    expect((await dismissNudge(fx.store, k6?.id ?? 0, "U0REP", null, NOW)).ok).toBe(true);
    const report = await sweepAt(fx.store, NOW + 60_000, { chunkSize: 3 });
    expect(report.created).toBe(0);
    expect(await liveKeys(fx.store)).not.toContain("no-contact K6");
  });

  it("leaves every delivery pending when it ends, and releases deliveries a dead sweep left held", async () => {
    await tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(await outboxStatuses()).toEqual([{ status: "pending", n: 5 }]);
    // A sweep that died after committing a chunk leaves its deliveries held.
    await fx.store.db.updateTable("outbox").set({ status: "held" }).execute();
    await sweepAt(fx.store, NOW + 60_000, { chunkSize: 3 });
    expect(await outboxStatuses()).toEqual([{ status: "pending", n: 5 }]);
  });

  it("a sweep failing in a later chunk keeps the chunks it committed, with their deliveries released, and records the error", async () => {
    const ids = await tenCustomers();
    const repair = await failInserts(fx.store.db, "nudges", "disk on fire", { customerId: ids[6] as number });
    await expect(sweepAt(fx.store, NOW, { chunkSize: 3 })).rejects.toThrow("disk on fire");
    // Chunks K0–K2 and K3–K5 committed; K6–K8 rolled back as a whole.
    expect(await liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K4"]);
    expect(await outboxStatuses()).toEqual([{ status: "pending", n: 3 }]);
    expect((await fx.store.db.selectFrom("sweep_runs").select("status").executeTakeFirstOrThrow()).status).toBe("error");
    await repair();
    expect((await sweepAt(fx.store, NOW, { chunkSize: 3 })).created).toBe(2);
  });

  it("stores the facts the rule reads and the message shows, not the whole catalog", async () => {
    await tenCustomers();
    await sweepAt(fx.store, NOW);
    const { facts: json } = await fx.store.db.selectFrom("nudges").select("facts").orderBy("id").limit(1).executeTakeFirstOrThrow();
    const facts = JSON.parse(json) as Record<string, unknown>;
    expect(facts).toEqual({ daysSinceLastTouch: 40, neverTouched: false, lastTouchKind: "call", npsLatest: null, npsPrevious: null, segment: "smb" });
  });
});
