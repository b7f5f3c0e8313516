import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freshDatabase } from "@keepwarm/store/testing";
import { REPO_ROOT, tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";

// `pnpm keepwarm …` runs scripts/keepwarm.mjs: the build when fresh, else the sources via tsx.
const tmp = tempDir("keepwarm-launcher-");
afterAll(() => tmp.cleanup());

const version = (JSON.parse(readFileSync(join(REPO_ROOT, "apps/cli/package.json"), "utf8")) as { version: string }).version;

/** The child processes of `pid`, from /proc (Linux). */
function childrenOf(pid: number): string {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
}

describe.each([
  ["the build", "0"],
  ["the sources (tsx)", "1"],
])("pnpm keepwarm running %s", (_name, fromSource) => {
  it("answers --version", async () => {
    const child = spawn(process.execPath, ["scripts/keepwarm.mjs", "--version"], { cwd: REPO_ROOT, env: { ...process.env, KEEPWARM_FROM_SOURCE: fromSource } });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    expect(await new Promise((resolve) => child.on("close", resolve))).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it.skipIf(process.platform !== "linux")("runs keepwarm in its own process: no child to outlive it, and SIGTERM stops it with exit 0", async () => {
    const db = await freshDatabase(tmp, `launcher-${fromSource}.db`);
    const child = spawn(process.execPath, ["scripts/keepwarm.mjs", "worker"], {
      cwd: REPO_ROOT,
      env: { ...process.env, KEEPWARM_FROM_SOURCE: fromSource, KEEPWARM_DB: db, KEEPWARM_SCHEDULE: "0 0 1 1 *", SLACK_BOT_TOKEN: "" },
    });
    let stderr = "";
    const started = new Promise<void>((resolve) =>
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes("Ctrl-C to stop")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await Promise.race([started, exited]);
    expect(childrenOf(child.pid as number), stderr).toBe("");
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    clearTimeout(timer);
  });
});
