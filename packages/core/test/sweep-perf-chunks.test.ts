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
  fx.store.sqlite.prepare("SELECT status, count(*) AS n FROM outbox GROUP BY status ORDER BY status").all() as Array<{ status: string; n: number }>;

/** Ten smb customers; the even ones were last touched 40 days ago (no-contact holds), the odd ones yesterday. */
function tenCustomers(): number[] {
  return Array.from({ length: 10 }, (_, i) => {
    const id = addCustomer(fx.store, { id: `K${i}` });
    fx.store.sqlite.prepare("UPDATE customers SET segment = 'smb' WHERE id = ?").run(id);
    addTouch(fx.store, id, daysBefore(i % 2 === 0 ? 40 : 1));
    return id;
  });
}

describe("chunked sweep", () => {
  it("plans across chunk boundaries exactly as in one chunk, and a rerun creates nothing", async () => {
    tenCustomers();
    const report = await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(report).toMatchObject({ evaluated: 10, matched: 5, created: 5, expired: 0 });
    expect(liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K4", "no-contact K6", "no-contact K8"]);
    expect(report.nudges.map((n) => n.customerId)).toEqual(["K0", "K2", "K4", "K6", "K8"]);
    expect((await sweepAt(fx.store, NOW, { chunkSize: 3 })).created).toBe(0);
    expect((await sweepAt(fx.store, NOW, { chunkSize: 1000 })).created).toBe(0);
    expect(nudges(fx.store)).toHaveLength(5);
  });

  it("expires the live nudge of a customer who churned, in the middle of a chunk range or after the last row", async () => {
    const ids = tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    // K4 sits inside a chunk's id range, K8 after the last customer the scan returns.
    const churn = fx.store.sqlite.prepare("UPDATE customers SET churned_at = ? WHERE id = ?");
    churn.run(daysBefore(1), ids[4]);
    churn.run(daysBefore(1), ids[8]);
    fx.store.sqlite.prepare("DELETE FROM customers WHERE id = ?").run(ids[9]);
    const report = await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(report).toMatchObject({ evaluated: 7, created: 0, expired: 2 });
    expect(liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K6"]);
    const expired = nudges(fx.store).filter((n) => n.status === "expired");
    expect(expired.map((n) => [n.customer, n.closeReason])).toEqual([
      ["K4", "conditions-cleared"],
      ["K8", "conditions-cleared"],
    ]);
  });

  it("respects a cooldown found in a later chunk", async () => {
    tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    const k6 = nudges(fx.store).find((n) => n.customer === "K6");
    expect((await dismissNudge(fx.store, k6?.id ?? 0, "U0REP", null, NOW)).ok).toBe(true);
    const report = await sweepAt(fx.store, NOW + 60_000, { chunkSize: 3 });
    expect(report.created).toBe(0);
    expect(liveKeys(fx.store)).not.toContain("no-contact K6");
  });

  it("leaves every delivery pending when it ends, and releases deliveries a dead sweep left held", async () => {
    tenCustomers();
    await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(outboxStatuses()).toEqual([{ status: "pending", n: 5 }]);
    // A sweep that died after committing a chunk leaves its deliveries held.
    fx.store.sqlite.prepare("UPDATE outbox SET status = 'held'").run();
    await sweepAt(fx.store, NOW + 60_000, { chunkSize: 3 });
    expect(outboxStatuses()).toEqual([{ status: "pending", n: 5 }]);
  });

  it("a sweep failing in a later chunk keeps the chunks it committed, with their deliveries released, and records the error", async () => {
    const ids = tenCustomers();
    fx.store.sqlite.exec(`CREATE TRIGGER fail_k6 BEFORE INSERT ON nudges WHEN NEW.customer_id = ${ids[6]} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    await expect(sweepAt(fx.store, NOW, { chunkSize: 3 })).rejects.toThrow("disk on fire");
    // Chunks K0–K2 and K3–K5 committed; K6–K8 rolled back as a whole.
    expect(liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K4"]);
    expect(outboxStatuses()).toEqual([{ status: "pending", n: 3 }]);
    expect(fx.store.sqlite.prepare("SELECT status FROM sweep_runs").pluck().get()).toBe("error");
    fx.store.sqlite.exec("DROP TRIGGER fail_k6");
    expect((await sweepAt(fx.store, NOW, { chunkSize: 3 })).created).toBe(2);
  });

  it("stores the facts the rule reads and the message shows, not the whole catalog", async () => {
    tenCustomers();
    await sweepAt(fx.store, NOW);
    const facts = JSON.parse(fx.store.sqlite.prepare("SELECT facts FROM nudges LIMIT 1").pluck().get() as string) as Record<string, unknown>;
    expect(facts).toEqual({ daysSinceLastTouch: 40, neverTouched: false, lastTouchKind: "call", npsLatest: null, npsPrevious: null, segment: "smb" });
  });
});
