/**
 * CLI start-up benchmark: wall time of `keepwarm --help` and `keepwarm touch …` with the
 * built CLI (node apps/cli/dist/main.js), next to the floor (`node -e ''`) and to the
 * sources through tsx (what every `pnpm keepwarm` paid before the build), and the
 * `pnpm keepwarm` path, all in the same run. Targets on an idle machine: --help ≤ 0.3 s,
 * touch ≤ 0.5 s.
 *
 *   pnpm build && node --import tsx bench/cli-startup.ts [--runs 10] [--pnpm /path/to/pnpm]
 *
 * Uses hyperfine when it is installed (apt-get install hyperfine), else a loop of runs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtCliIsFresh, CLI_DIST, CLI_SOURCE } from "../scripts/cli-entry.mjs";
import { benchArgs, intArg, machineLine, table, tempDb } from "./lib";

const args = benchArgs({ runs: { type: "string" }, pnpm: { type: "string" } });
const runs = intArg(args.runs, 10, "runs");
if (!builtCliIsFresh()) {
  console.error("bench: the built CLI is missing or older than the sources: run pnpm build first");
  process.exit(1);
}

function findPnpm(): string | undefined {
  if (typeof args.pnpm === "string") return args.pnpm;
  if (process.env.npm_execpath?.includes("pnpm")) return process.env.npm_execpath;
  const which = spawnSync("sh", ["-c", "command -v pnpm"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

const db = tempDb("keepwarm-bench-cli-");
const env = { ...process.env, KEEPWARM_DB: db.path, KEEPWARM_TZ: "UTC", SLACK_BOT_TOKEN: "" };
const csv = join(db.dir, "customers.csv");
writeFileSync(csv, "id,name\nC-0001,Acme Ltd\n");
execFileSync(process.execPath, [CLI_DIST, "import", "customers", csv], { env, stdio: "ignore" });

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const node = q(process.execPath);
const touch = "touch C-0001 call today bench";
const pnpm = findPnpm();
const pnpmCmd = pnpm === undefined ? undefined : pnpm.endsWith(".cjs") || pnpm.endsWith(".js") ? `${node} ${q(pnpm)}` : q(pnpm);
const cases: Array<{ name: string; command: string } | { name: string; skipped: string }> = [
  { name: "node -e '' (the floor)", command: `${node} -e ''` },
  { name: "built: keepwarm --help", command: `${node} ${q(CLI_DIST)} --help` },
  { name: "built: keepwarm touch …", command: `${node} ${q(CLI_DIST)} ${touch}` },
  { name: "sources via tsx: --help", command: `${node} --import tsx ${q(CLI_SOURCE)} --help` },
  { name: "sources via tsx: touch …", command: `${node} --import tsx ${q(CLI_SOURCE)} ${touch}` },
  pnpmCmd === undefined
    ? { name: "pnpm keepwarm --help", skipped: "no pnpm found (give --pnpm PATH)" }
    : { name: "pnpm keepwarm --help", command: `${pnpmCmd} --silent keepwarm --help` },
];

/** Wall times, and the CPU time the process itself used (user + system): on a busy machine the wall time mostly measures the wait for a core. */
interface Timing {
  mean: number;
  min: number;
  cpu: number | undefined;
}

function hyperfine(command: string): Timing {
  const out = join(db.dir, "hyperfine.json");
  execFileSync("hyperfine", ["--warmup", "1", "--runs", String(runs), "--export-json", out, "--style", "none", command], { env, stdio: "ignore" });
  const result = (JSON.parse(readFileSync(out, "utf8")) as { results: Array<{ mean: number; min: number; user: number; system: number }> }).results[0];
  rmSync(out);
  return {
    mean: (result?.mean ?? Number.NaN) * 1000,
    min: (result?.min ?? Number.NaN) * 1000,
    cpu: ((result?.user ?? Number.NaN) + (result?.system ?? Number.NaN)) * 1000,
  };
}

function loop(command: string): Timing {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const result = spawnSync("sh", ["-c", command], { env, stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${command} exited ${result.status}`);
    if (i > 0) times.push(performance.now() - start); // the first run warms the caches
  }
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, min: Math.min(...times), cpu: undefined };
}

const useHyperfine = spawnSync("sh", ["-c", "command -v hyperfine"]).status === 0;
const ms = (x: number) => `${(x / 1000).toFixed(3)} s`;
const rows = [["", "wall mean", "wall min", "cpu (user+sys)"]];
for (const c of cases) {
  if ("skipped" in c) {
    rows.push([c.name, c.skipped, "", ""]);
    continue;
  }
  const t = useHyperfine ? hyperfine(c.command) : loop(c.command);
  rows.push([c.name, ms(t.mean), ms(t.min), t.cpu === undefined ? "—" : ms(t.cpu)]);
}
console.log(`CLI start-up, ${runs} runs each (${useHyperfine ? "hyperfine" : "a loop of runs"}); ${machineLine()}`);
console.log(table(rows));
console.log("targets (idle machine): built --help ≤ 0.300 s, built touch ≤ 0.500 s");
db.cleanup();
if (existsSync(db.dir)) rmSync(db.dir, { recursive: true, force: true });
