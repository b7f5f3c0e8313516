import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startWorker, type Worker } from "../src/index";

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let worker: Worker | undefined;
const logs: string[] = [];

beforeEach(async () => {
  tmp = tempDir("keepwarm-worker-");
  store = await openStore(tmp.file("keepwarm.db"));
  logs.length = 0;
  const since = Date.now() - 60 * DAY_MS;
  const insert = store.sqlite.prepare("INSERT INTO customers (external_id, name, segment, since_at, created_at, updated_at) VALUES (?, ?, 'smb', ?, ?, ?)");
  for (let i = 0; i < 50; i++) insert.run(`W-${i}`, `Worker customer ${i}`, since, since, since);
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await store.close();
  tmp.cleanup();
});

// A schedule that never fires during a test: ticks come only from worker.tick().
const env = { KEEPWARM_SCHEDULE: "0 0 1 1 *", KEEPWARM_TZ: "UTC" };
const runs = () => store.sqlite.prepare("SELECT status, created FROM sweep_runs ORDER BY id").all() as Array<{ status: string; created: number }>;

describe("startWorker", () => {
  it("a tick sweeps, logs the outcome and hands the report to afterSweep", async () => {
    const seen: number[] = [];
    worker = startWorker({ store, env, log: (line) => logs.push(line), afterSweep: (report) => void seen.push(report.created) });
    const report = await worker.tick();
    expect(report?.created).toBe(50);
    expect(seen).toEqual([50]);
    expect(logs.some((line) => /^sweep #1: 50 customers, 50 new nudges/.test(line))).toBe(true);
    expect(runs()).toEqual([{ status: "ok", created: 50 }]);
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
    expect(runs()).toHaveLength(1);
    expect(logs).toContain("sweep: previous sweep still running; skipping this tick");
    // Once finished, the next tick runs a new sweep (which creates nothing new).
    expect((await worker.tick())?.created).toBe(0);
    expect(runs()).toHaveLength(2);
  });

  it("skips a tick while another process holds the sweep lease", async () => {
    store.sqlite.prepare("INSERT INTO leases (name, holder, host, pid, expires_at) VALUES ('sweep', 'other', 'another-host', 1, ?)").run(Date.now() + 60_000);
    worker = startWorker({ store, env, log: (line) => logs.push(line) });
    expect(await worker.tick()).toBeUndefined();
    expect(logs.some((line) => line.startsWith("sweep: skipped, another sweep is running (pid 1 on another-host)"))).toBe(true);
    expect(runs()).toEqual([]);
  });

  it("a failed sweep is logged and the worker keeps going", async () => {
    store.sqlite.exec("CREATE TRIGGER fail_nudges BEFORE INSERT ON nudges BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    worker = startWorker({ store, env, log: (line) => logs.push(line) });
    expect(await worker.tick()).toBeUndefined();
    expect(logs).toContain("sweep failed: disk on fire");
    store.sqlite.exec("DROP TRIGGER fail_nudges");
    expect((await worker.tick())?.created).toBe(50);
    expect(runs().map((r) => r.status)).toEqual(["error", "ok"]);
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
    expect(runs()).toEqual([{ status: "ok", created: 50 }]);
    await tick;
  });
});
