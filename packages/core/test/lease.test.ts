import { hostname } from "node:os";
import { openStore, type Store } from "@keepwarm/store";
import { takeLeaseOnInsert } from "@keepwarm/store/testing/faults";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keepLeaseAlive, type LeaseHolder, LeaseLostError, releaseLease, renewLease, SweepBusyError, tryAcquireLease } from "../src/index";
import { addCustomer, addTouch, countRows, daysBefore, type Fixture, freshStore, liveKeys, NOW, sweepAt } from "./sweep-fixtures";

let fx: Fixture;
/**
 * Another process, as far as leases go (a lease is told apart by its holder, not its
 * connection): a second pool on PostgreSQL. On SQLite the same connection: better-sqlite3
 * waits for a lock synchronously, so two connections of one process that contend for the
 * write lock would block each other's event loop (separate processes do not).
 */
let other: Store;
beforeEach(async () => {
  fx = await freshStore();
  other = fx.store.engine === "postgres" ? await openStore(fx.path) : fx.store;
});
afterEach(async () => {
  if (other !== fx.store) await other.close();
  await fx.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const holdLease = (host: string, pid: number, expiresAt: number, name = "sweep") =>
  fx.store.db.insertInto("leases").values({ name, holder: "someone", host, pid, expires_at: expiresAt }).execute();
const acquired = (result: LeaseHolder | { busy: LeaseHolder }): LeaseHolder => {
  if ("busy" in result) throw new Error(`lease busy: held by ${result.busy.holder}`);
  return result;
};

describe("the sweep lease", () => {
  it("refuses a sweep while another holder's lease is live, and records no run", async () => {
    await addCustomer(fx.store, { id: "C-1" });
    await holdLease("another-host", 4242, Date.now() + 60_000);
    await expect(sweepAt(fx.store, NOW)).rejects.toBeInstanceOf(SweepBusyError);
    await expect(sweepAt(fx.store, NOW)).rejects.toThrow("another sweep is running (pid 4242 on another-host)");
    expect(await countRows(fx.store, "sweep_runs")).toBe(0);
  });

  it("waits for a lease to be released when asked to wait", async () => {
    await holdLease("another-host", 4242, Date.now() + 60_000);
    setTimeout(() => void other.db.deleteFrom("leases").execute(), 300);
    const report = await sweepAt(fx.store, NOW, { waitMs: 5_000 });
    expect(report.runId).toBe(1);
  });

  it("is judged by its expiry, never by pid: a dead pid on this host still holds it, a live one that expired does not", async () => {
    await holdLease(hostname(), 2 ** 22 + 12345, Date.now() + 60_000);
    expect("busy" in (await tryAcquireLease(fx.store, "sweep", 60_000))).toBe(true);
    await fx.store.db.deleteFrom("leases").execute();
    // This very process (pid alive, same host) as the holder, but it stopped renewing.
    await holdLease(hostname(), process.pid, Date.now() - 1);
    const mine = acquired(await tryAcquireLease(fx.store, "sweep", 60_000));
    await releaseLease(fx.store, mine);
    expect(await countRows(fx.store, "leases")).toBe(0);
  });

  it("is released after a sweep, so sweeps run one after another", async () => {
    await sweepAt(fx.store, NOW);
    expect(await countRows(fx.store, "leases")).toBe(0);
    await sweepAt(fx.store, NOW);
    const runs = await fx.store.db.selectFrom("sweep_runs").select("status").orderBy("id").execute();
    expect(runs.map((r) => r.status)).toEqual(["ok", "ok"]);
  });
});

describe("heartbeat leases", () => {
  const TTL = 400;

  it("a holder that stops heartbeating is taken over once its TTL has passed, and then finds it lost", async () => {
    const dead = acquired(await tryAcquireLease(fx.store, "job", TTL));
    expect("busy" in (await tryAcquireLease(other, "job", TTL))).toBe(true);
    await sleep(TTL + 100);
    const next = acquired(await tryAcquireLease(other, "job", TTL));
    expect(next.holder).not.toBe(dead.holder);
    // The old holder, back to life, cannot renew: it must stop.
    expect(await renewLease(fx.store, dead, TTL)).toBe(false);
    const heartbeat = keepLeaseAlive(fx.store, dead, { ttlMs: TTL, everyMs: 50 });
    try {
      await sleep(150);
      expect(heartbeat.lost).toBe(true);
      expect(() => heartbeat.assertHeld()).toThrow(LeaseLostError);
    } finally {
      heartbeat.stop();
    }
    // Releasing a lease one no longer holds leaves the new holder's alone.
    await releaseLease(fx.store, dead);
    expect((await fx.store.db.selectFrom("leases").select("holder").executeTakeFirstOrThrow()).holder).toBe(next.holder);
  });

  it("a live heartbeat is never taken over, however long it holds the lease", async () => {
    const live = acquired(await tryAcquireLease(fx.store, "job", TTL));
    const heartbeat = keepLeaseAlive(fx.store, live, { ttlMs: TTL, everyMs: TTL / 4 });
    try {
      const until = Date.now() + 4 * TTL;
      while (Date.now() < until) {
        expect("busy" in (await tryAcquireLease(other, "job", TTL))).toBe(true);
        await sleep(40);
      }
      expect(heartbeat.lost).toBe(false);
      expect(() => heartbeat.assertHeld()).not.toThrow();
    } finally {
      heartbeat.stop();
    }
    // Once it stops beating, the lease is free after the TTL.
    await sleep(TTL + 100);
    acquired(await tryAcquireLease(other, "job", TTL));
  });

  it("two processes racing for a free lease: exactly one wins", async () => {
    const results = await Promise.all([fx.store, other, fx.store, other, fx.store, other].map((store) => tryAcquireLease(store, "race", 60_000)));
    expect(results.filter((r) => !("busy" in r))).toHaveLength(1);
  });

  it("a sweep whose lease was taken over stops before writing another chunk, and leaves its deliveries held", async () => {
    for (let i = 0; i < 10; i++) {
      const id = await addCustomer(fx.store, { id: `K${i}`, segment: "smb" });
      await addTouch(fx.store, id, daysBefore(i % 2 === 0 ? 40 : 1));
    }
    // The first nudge written hands the lease to another process, inside chunk 1's transaction.
    const restore = await takeLeaseOnInsert(fx.store.db, "nudges", "sweep");
    await expect(sweepAt(fx.store, NOW, { chunkSize: 3 })).rejects.toBeInstanceOf(LeaseLostError);
    await restore();
    // Chunk 1 (K0–K2) committed; nothing after it.
    expect(await liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2"]);
    const held = await fx.store.db.selectFrom("outbox").select("status").execute();
    expect(held.map((o) => o.status)).toEqual(["held", "held"]);
    // The new holder is alive (its lease has not expired): no sweep runs meanwhile.
    await expect(sweepAt(fx.store, NOW)).rejects.toBeInstanceOf(SweepBusyError);
    // It dies: after its TTL the next sweep takes over, releases the held deliveries and finishes the work.
    await fx.store.db
      .updateTable("leases")
      .set({ expires_at: Date.now() - 1 })
      .execute();
    const report = await sweepAt(fx.store, NOW, { chunkSize: 3 });
    expect(report.created).toBe(3);
    expect(await liveKeys(fx.store)).toEqual(["no-contact K0", "no-contact K2", "no-contact K4", "no-contact K6", "no-contact K8"]);
    const statuses = await fx.store.db.selectFrom("outbox").select("status").execute();
    expect(statuses.map((o) => o.status)).toEqual(["pending", "pending", "pending", "pending", "pending"]);
    const runs = await fx.store.db.selectFrom("sweep_runs").select(["status", "error"]).orderBy("id").execute();
    expect(runs.map((r) => r.status)).toEqual(["error", "ok"]);
    expect(runs[0]?.error).toMatch(/lost the "sweep" lease/);
  });
});
