import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

/**
 * Shared plumbing of the benchmarks. Each measured phase runs in its own child
 * process, so its wall time and peak RSS (maxRSS never goes down) are its own and not
 * the data generator's.
 */

export interface PhaseResult {
  phase: string;
  wallMs: number;
  /** user + system CPU time of the phase: less sensitive than wall time to a busy machine. */
  cpuMs: number;
  /** PostgreSQL only: CPU time of the server processes that served the phase (a local server). */
  serverCpuMs?: number | undefined;
  /** process.resourceUsage().maxRSS of the phase's process, in MiB. */
  peakRssMiB: number;
  [key: string]: unknown;
}

export function benchArgs(options: Record<string, { type: "string" | "boolean"; default?: string | boolean }>) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { ...options, phase: { type: "string" }, db: { type: "string" } }, strict: true });
  return values as Record<string, string | boolean | undefined>;
}

export function intArg(value: string | boolean | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(String(value).replace(/_/g, ""));
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive whole number, got "${String(value)}"`);
    process.exit(1);
  }
  return n;
}

export const peakRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** Time one phase inside the child process and print its result as the last stdout line. */
export async function reportPhase(
  phase: string,
  work: () => Promise<Record<string, unknown>> | Record<string, unknown>,
  options: { serverCpu?: () => Promise<Map<number, number>> } = {},
): Promise<void> {
  const serverBefore = await options.serverCpu?.();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const extra = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const serverAfter = await options.serverCpu?.();
  let serverCpuMs: number | undefined;
  if (serverAfter !== undefined) {
    serverCpuMs = 0;
    for (const [pid, ms] of serverAfter) serverCpuMs += ms - (serverBefore?.get(pid) ?? 0);
  }
  const result: PhaseResult = { phase, wallMs, cpuMs: (used.user + used.system) / 1000, serverCpuMs, peakRssMiB: peakRssMiB(), ...extra };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Run this same script as a child with `--phase <phase>` and return what it reported. */
export function runPhase(script: string, phase: string, args: string[]): PhaseResult {
  const child = spawnSync(process.execPath, [...process.execArgv, script, "--phase", phase, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (child.status !== 0) throw new Error(`phase ${phase} failed with exit status ${child.status}`);
  const last = child.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as PhaseResult;
}

export function tempDb(prefix: string): { dir: string; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: join(dir, "bench.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString("en-US");
export const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")).join("\n");
}

export function machineLine(): string {
  const cores = cpus();
  return `node ${process.version}, ${cores.length} × ${cores[0]?.model ?? "cpu"}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
}
