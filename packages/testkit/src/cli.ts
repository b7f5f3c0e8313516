import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { builtCliIsFresh, CLI_DIST, CLI_SOURCE } from "../../../scripts/cli-entry.mjs";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the real keepwarm CLI as a child process, as a user would: the build (see build-cli.ts), or the sources when it is stale. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export function spawnCli(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, SLACK_BOT_TOKEN: undefined, ...env })) {
    if (value !== undefined) merged[key] = value;
  }
  const entry = builtCliIsFresh() ? [CLI_DIST] : ["--import", "tsx", CLI_SOURCE];
  return spawn(process.execPath, [...entry, ...args], { cwd: REPO_ROOT, env: merged, stdio: ["pipe", "pipe", "pipe"] });
}
