import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { releaseLease, SweepBusyError, tryAcquireLease } from "../src/index";
import { addCustomer, type Fixture, freshStore, NOW, sweepAt } from "./sweep-fixtures";

let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
});
afterEach(() => fx.close());

const holdLease = (host: string, pid: number, expiresAt: number) =>
  fx.store.sqlite.prepare("INSERT INTO leases (name, holder, host, pid, expires_at) VALUES ('sweep', 'someone', ?, ?, ?)").run(host, pid, expiresAt);

describe("the sweep lease", () => {
  it("refuses a sweep while a live process on another host holds the lease, and records no run", async () => {
    addCustomer(fx.store, { id: "C-1" });
    holdLease("another-host", 4242, Date.now() + 60_000);
    await expect(sweepAt(fx.store, NOW)).rejects.toBeInstanceOf(SweepBusyError);
    await expect(sweepAt(fx.store, NOW)).rejects.toThrow("another sweep is running (pid 4242 on another-host)");
    expect(fx.store.sqlite.prepare("SELECT count(*) FROM sweep_runs").pluck().get()).toBe(0);
  });

  it("waits for a lease to be released when asked to wait", async () => {
    holdLease("another-host", 4242, Date.now() + 60_000);
    setTimeout(() => fx.store.sqlite.prepare("DELETE FROM leases").run(), 300);
    const report = await sweepAt(fx.store, NOW, { waitMs: 5_000 });
    expect(report.runId).toBe(1);
  });

  it("takes over at once from a dead process on this host, and after the TTL from another host", () => {
    holdLease(hostname(), 2 ** 22 + 12345, Date.now() + 60_000);
    const mine = tryAcquireLease(fx.store, "sweep", 60_000);
    expect("busy" in mine).toBe(false);
    if (!("busy" in mine)) releaseLease(fx.store, mine);
    holdLease("another-host", 4242, Date.now() - 1);
    expect("busy" in tryAcquireLease(fx.store, "sweep", 60_000)).toBe(false);
  });

  it("is released after a sweep, so sweeps run one after another", async () => {
    await sweepAt(fx.store, NOW);
    expect(fx.store.sqlite.prepare("SELECT count(*) FROM leases").pluck().get()).toBe(0);
    await sweepAt(fx.store, NOW);
    expect(fx.store.sqlite.prepare("SELECT status FROM sweep_runs").pluck().all()).toEqual(["ok", "ok"]);
  });
});
