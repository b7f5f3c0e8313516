import { spawnCli } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliSandbox, seedQuietCustomers } from "./spine-fixtures";

let box: ReturnType<typeof cliSandbox>;
beforeEach(() => {
  box = cliSandbox();
});
afterEach(() => box.cleanup());

describe("keepwarm worker", () => {
  it("a SIGTERM during the --run-now sweep lets that sweep finish, then exits 0", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 5000, "T"));
    const child = spawnCli(["worker", "--run-now"], { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC", KEEPWARM_SCHEDULE: "0 0 1 1 *" });
    child.stdout?.resume();
    let stderr = "";
    const started = new Promise<void>((resolve) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("Ctrl-C to stop")) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await Promise.race([started, exited]);
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    expect(stderr).toContain("[worker] SIGTERM: finishing the current sweep, then stopping");
    const runs = await box.withStore((store) => store.db.selectFrom("sweep_runs").select(["status", "created"]).execute());
    expect(runs).toEqual([{ status: "ok", created: 5000 }]);
  });

  it("--run-now sweeps at once, prints the nudges, and stops cleanly on SIGTERM (exit 0)", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 5));
    // A schedule that will not fire during the test.
    const child = spawnCli(["worker", "--run-now"], { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC", KEEPWARM_SCHEDULE: "0 0 1 1 *" });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const swept = new Promise<void>((resolve) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/\[worker\] sweep #1: /.test(stderr)) resolve();
      });
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await Promise.race([swept, exited]);
    child.kill("SIGTERM");
    const { code, signal } = await exited;
    clearTimeout(timeout);
    expect(signal, stderr).toBeNull();
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("[worker] sweep #1: 5 customers, 5 new nudges");
    // "0 0 1 1 *" in UTC: the next New Year's midnight.
    expect(stderr).toContain(`next sweep ${new Date().getUTCFullYear() + 1}-01-01 00:00 UTC; Ctrl-C to stop`);
    expect(stderr).toContain("[worker] SIGTERM: finishing the current sweep, then stopping");
    expect(stderr).not.toContain("    at ");
    expect(stdout).toContain("Quiet Q 0");
    const runs = await box.withStore((store) => store.db.selectFrom("sweep_runs").select("status").execute());
    expect(runs.map((run) => run.status)).toEqual(["ok"]);
    const leases = await box.withStore((store) => store.db.selectFrom("leases").selectAll().execute());
    expect(leases).toEqual([]);
  });
});
