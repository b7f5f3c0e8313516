import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { failInserts } from "@keepwarm/store/testing/faults";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startWorker, type Worker } from "../src/index";

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let worker: Worker | undefined;
const logs: string[] = [];

beforeEach(async () => {
  tmp = tempDir("keepwarm-worker-");
  store = await openStore(await migratedDatabase(tmp));
  logs.length = 0;
  const since = Date.now() - 60 * DAY_MS;
  await store.db
    .insertInto("customers")
    .values(
      Array.from({ length: 50 }, (_, i) => ({
        external_id: `W-${i}`,
        name: `Worker customer ${i}`,
        segment: "smb",
        since_at: since,
        loyalty_member: 0,
        attributes: "{}",
        created_at: since,
        updated_at: since,
      })),
    )
    .execute();
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await store.close();
  tmp.cleanup();
});

// A schedule that never fires during a test: ticks come only from worker.tick().
const env = { KEEPWARM_SCHEDULE: "0 0 1 1 *", KEEPWARM_TZ: "UTC" };
const runs = () => store.db.selectFrom("sweep_runs").select(["status", "created"]).orderBy("id").execute();

describe("startWorker", () => {
  it("a tick sweeps, logs the outcome and hands the report to afterSweep", async () => {
    const seen: number[] = [];
    worker = startWorker({ store, env, log: (line) => logs.push(line), afterSweep: (report) => void seen.push(report.created) });
    const report = await worker.tick();
    expect(report?.created).toBe(50);
    expect(seen).toEqual([50]);
    expect(logs.some((line) => /^sweep #1: 50 customers, 50 new nudges/.test(line))).toBe(true);
    expect(await runs()).toEqual([{ status: "ok", created: 50 }]);
  });

  it("two ticks at once never overlap: the second joins the sweep in progress", async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    worker = startWorker({
      store,
      env,
      log: (line) => logs.push(line),
      afterSweep: async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 50));
        concurrent--;
      },
    });
    const [a, b] = await Promise.all([worker.tick(), worker.tick()]);
    expect(a).toBe(b);
    expect(maxConcurrent).toBe(1);
    expect(await runs()).toHaveLength(1);
    expect(logs).toContain("sweep: previous sweep still running; skipping this tick");
    // Once finished, the next tick runs a new sweep (which creates nothing new).
    expect((await worker.tick())?.created).toBe(0);
    expect(await runs()).toHaveLength(2);
  });

  it("skips a tick while another process holds the sweep lease", async () => {
    await store.db
      .insertInto("leases")
      .values({ name: "sweep", holder: "other", host: "another-host", pid: 1, expires_at: Date.now() + 60_000 })
      .execute();
    worker = startWorker({ store, env, log: (line) => logs.push(line) });
    expect(await worker.tick()).toBeUndefined();
    expect(logs.some((line) => line.startsWith("sweep: skipped, another sweep is running (pid 1 on another-host)"))).toBe(true);
    expect(await runs()).toEqual([]);
  });

  it("a failed sweep is logged and the worker keeps going", async () => {
    const repair = await failInserts(store.db, "nudges", "disk on fire");
    worker = startWorker({ store, env, log: (line) => logs.push(line) });
    expect(await worker.tick()).toBeUndefined();
    expect(logs).toContain("sweep failed: disk on fire");
    await repair();
    expect((await worker.tick())?.created).toBe(50);
    expect((await runs()).map((r) => r.status)).toEqual(["error", "ok"]);
  });

  it("stop() waits for the sweep in progress", async () => {
    let delivered = false;
    const afterSweep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      delivered = true;
    };
    worker = startWorker({ store, env, log: (line) => logs.push(line), afterSweep });
    const tick = worker.tick();
    await worker.stop();
    worker = undefined;
    expect(delivered).toBe(true);
    expect(await runs()).toEqual([{ status: "ok", created: 50 }]);
    await tick;
  });
});
