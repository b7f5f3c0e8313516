import type { CliResult } from "@keepwarm/testkit";
import { runCli } from "../src/cli";

/**
 * The CLI's whole path (argument parsing, dispatch, the command, error reporting) run
 * in this process: the same code as `keepwarm ARGS`, without a process start per call.
 * Tests of signals, exit on stop and stdout pipes spawn the real process instead.
 */
export async function runInProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const merged: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries({ ...process.env, SLACK_BOT_TOKEN: undefined, ...env })) if (value !== undefined) merged[key] = value;
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    env: merged,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    tty: false,
    color: false,
  });
  return { code, signal: null, stdout, stderr };
}
