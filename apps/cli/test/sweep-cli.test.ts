import { runCli as runProcess, spawnCli } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliSandbox, nudgeCounts, seedQuietCustomers } from "./spine-fixtures";

let box: ReturnType<typeof cliSandbox>;
beforeEach(() => {
  box = cliSandbox();
});
afterEach(() => box.cleanup());

interface SweepJson {
  runId: number;
  evaluated: number;
  nudges: Array<{ ruleId: string; customerId: string; status: string; explanation: string }>;
}

const sweepJson = async (args: string[] = []): Promise<SweepJson> => {
  const result = await box.cli(["sweep", "--json", ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as SweepJson;
};

describe("keepwarm sweep", () => {
  it("--json prints { runId, evaluated, nudges: [{ ruleId, customerId, status, explanation }] } of the nudges it created", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 3));
    const report = await sweepJson();
    expect(report).toMatchObject({ runId: 1, evaluated: 3 });
    expect(report.nudges).toHaveLength(3);
    for (const nudge of report.nudges) {
      expect(nudge).toEqual(
        expect.objectContaining({ ruleId: "no-contact", status: "open", explanation: expect.stringMatching(/^Never touched \(customer for 60 days\)/) }),
      );
      expect(nudge.customerId).toMatch(/^Q-\d$/);
    }
    const rows = await box.withStore((store) => store.db.selectFrom("nudges").select(["rule_id", "status"]).orderBy("id").execute());
    expect(rows.map((row) => `${row.rule_id} ${row.status}`)).toEqual(["no-contact open", "no-contact open", "no-contact open"]);
  });

  it("run twice creates nothing the second time", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 3));
    expect((await sweepJson()).nudges).toHaveLength(3);
    const second = await sweepJson();
    expect(second).toMatchObject({ runId: 2, evaluated: 3, nudges: [] });
    expect(await box.withStore(nudgeCounts)).toEqual({ total: 3, pairs: 3 });
  });

  it("--dry-run lists what it would create and writes no nudges", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 2));
    const report = await sweepJson(["--dry-run"]);
    expect(report.nudges.map((n) => n.customerId).sort()).toEqual(["Q-0", "Q-1"]);
    expect(await box.withStore(nudgeCounts)).toEqual({ total: 0, pairs: 0 });
    const text = await box.cli(["sweep", "--dry-run"]);
    expect(text.stdout).toContain("(dry run)");
    expect(text.stdout).toContain("would create 2 nudges");
    expect(await box.withStore(nudgeCounts)).toEqual({ total: 0, pairs: 0 });
  });

  it("without Slack prints each nudge to the console: customer, owner, why, what to do", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 1));
    const result = await box.cli(["sweep"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Quiet Q 0");
    expect(result.stdout).toContain("<@U0OWNER1>");
    expect(result.stdout).toMatch(/Why: +Never touched \(customer for 60 days\)/);
    expect(result.stdout).toMatch(/Do: +A short email or call/);
  });

  it("a reader that closes the pipe early (| head) ends the CLI quietly, without a stack trace", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 3000));
    const child = spawnCli(["sweep", "--dry-run", "--json"], { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC" });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.once("data", () => child.stdout?.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("two sweep processes started together on one database create each nudge once in total", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 2000));
    // Two real processes: the sweep lease tells processes apart by host and pid.
    const env = { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC" };
    const [a, b] = await Promise.all([runProcess(["sweep", "--json"], env), runProcess(["sweep", "--json"], env)]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    const created = [a, b].map((r) => (JSON.parse(r.stdout) as SweepJson).nudges.length).sort((x, y) => x - y);
    expect(created).toEqual([0, 2000]);
    expect(await box.withStore(nudgeCounts)).toEqual({ total: 2000, pairs: 2000 });
    const runs = await box.withStore((store) => store.db.selectFrom("sweep_runs").select("status").execute());
    expect(runs.map((run) => run.status)).toEqual(["ok", "ok"]);
  });

  // The rerun waits out the dead sweep's lease TTL (15 s): more time than the default.
  it("a sweep killed with SIGKILL mid-run, then rerun, leaves no duplicates and records the abandoned run", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 30_000));
    const child = spawnCli(["sweep", "--json"], { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.stdout?.resume();
    child.stderr?.resume();
    // Kill as soon as the run is recorded as started, i.e. while it evaluates.
    const started = await box.withStore(async (store) => {
      for (let i = 0; i < 3000; i++) {
        if ((await store.db.selectFrom("sweep_runs").select("id").where("status", "=", "running").executeTakeFirst()) !== undefined) return true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return false;
    });
    expect(started).toBe(true);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const before = await box.withStore(nudgeCounts);
    expect(before.total === 0 || before.total === 30_000).toBe(true);
    // Its deliveries stay held until a sweep takes over.
    const held = await box.withStore((store) => store.db.selectFrom("outbox").select("status").where("status", "=", "held").execute());
    expect(held).toHaveLength(before.total);

    // The rerun waits out the dead sweep's lease (its heartbeat stopped), then takes over.
    const rerun = await sweepJson();
    expect(rerun.nudges).toHaveLength(30_000 - before.total);
    expect(await box.withStore(nudgeCounts)).toEqual({ total: 30_000, pairs: 30_000 });
    const runs = await box.withStore((store) => store.db.selectFrom("sweep_runs").select(["status", "finished_at"]).orderBy("id").execute());
    expect(runs.map((run) => [run.status, run.finished_at !== null])).toEqual([
      ["abandoned", true],
      ["ok", true],
    ]);
    const outbox = await box.withStore((store) => store.db.selectFrom("outbox").select("status").distinct().execute());
    expect(outbox.map((o) => o.status)).toEqual(["pending"]);
  }, 120_000);
});
