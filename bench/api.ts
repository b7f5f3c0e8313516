/**
 * HTTP API ingest benchmark: the same touches posted to POST /api/v1/touches in batches
 * of 1,000, and as single-event requests at a fixed rate (open loop: latency counted from
 * the scheduled send, so a stalled server cannot hide its queue), beside the CSV import
 * of the same batched rows into a fresh database (the baseline, same run).
 *
 *   node --import tsx bench/api.ts [--engine sqlite|postgres|both] [--touches 100000] [--customers 2000] [--singles 5000] [--rate 500] [--warmup 1500]
 *
 * The API server (createApiHandler on node:http, a real token, loopback) runs in its own
 * process, so its CPU time is its own; on PostgreSQL the server backends' CPU is read
 * from /proc too. The issue's targets: ≥ 20,000 touches/s in batches; 500 single
 * requests/s with p99 ≤ 50 ms; zero errors; every touch stored once.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiHandler, createApiToken } from "../packages/api/src/index";
import { importCsv } from "../packages/core/src/import/import-csv";
import { Calendar } from "../packages/rules/src/index";
import {
  countTouches,
  createPostgresDatabase,
  DAY_MS,
  dropPostgresDatabases,
  insertCustomers,
  openStore,
  type Store,
  serverCpuByPid,
} from "../packages/store/src/index";
import { benchArgs, fmtInt, fmtS, intArg, machineLine, reportPhase, runPhase, table, tempDb } from "./lib";
import { openLoad, percentile } from "./open-loop";

const args = benchArgs({
  touches: { type: "string" },
  customers: { type: "string" },
  singles: { type: "string" },
  rate: { type: "string" },
  warmup: { type: "string" },
  engine: { type: "string" },
  "pg-url": { type: "string" },
  file: { type: "string" },
  now: { type: "string" },
});
const TOUCHES = intArg(args.touches, 100_000, "--touches");
const CUSTOMERS = intArg(args.customers, 2_000, "--customers");
const SINGLES = intArg(args.singles, 5_000, "--singles");
const RATE = intArg(args.rate, 500, "--rate");
const WARMUP = args.warmup === "0" ? 0 : intArg(args.warmup, 1_500, "--warmup");
const NOW = Number(args.now ?? Date.now());
const PG_ADMIN_URL = String(args["pg-url"] ?? "postgres://postgres@127.0.0.1:5432/postgres");
const PG_PREFIX = "kwbench_api_";
const script = fileURLToPath(import.meta.url);

const touchAt = (i: number) => ({
  customer_id: `C-${i % CUSTOMERS}`,
  occurred_at: new Date(NOW - (1 + (i % 300)) * DAY_MS - i * 1000).toISOString(),
  kind: ["call", "email", "meeting"][i % 3] as string,
  note: `touch ${i}`,
});

async function seed(db: string): Promise<void> {
  const store = await openStore(db);
  const created = NOW - 1000 * DAY_MS;
  await insertCustomers(
    store.db,
    Array.from({ length: CUSTOMERS }, (_, i) => ({
      external_id: `C-${i}`,
      name: `Customer ${i}`,
      loyalty_member: 0,
      attributes: "{}",
      created_at: created,
      updated_at: created,
    })),
  );
  await store.close();
}

/** Child process: the API server. Sends `{port, secret}`, then answers each "cpu" message with its CPU ms so far. */
async function serve(db: string): Promise<void> {
  const store: Store = await openStore(db);
  const { secret } = await createApiToken(store, "bench", ["ingest"]);
  const server = createServer(createApiHandler({ store, calendar: new Calendar("UTC"), rateLimit: 1_000_000, onError: (e) => console.error(e) }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.send?.({ port: (server.address() as AddressInfo).port, secret });
  process.on("message", (message) => {
    if (message === "cpu") {
      const used = process.cpuUsage();
      process.send?.({ cpuMs: (used.user + used.system) / 1000 });
    } else if (message === "stop") {
      server.close();
      void store.close().then(() => process.exit(0));
    }
  });
}

/** Child process: the CSV import of the batched rows, the baseline. */
async function importPhase(db: string, file: string): Promise<void> {
  const store = await openStore(db);
  await reportPhase(
    "import",
    async () => ({ rows: (await importCsv(store, "touches", file, { now: NOW })).inserted }),
    store.engine === "postgres" ? { serverCpu: () => serverCpuByPid(db) } : {},
  );
  await store.close();
}

interface Server {
  url: string;
  secret: string;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(db: string): Promise<Server> {
  const child = spawn(process.execPath, [...process.execArgv, script, "--phase", "serve", "--db", db, "--now", String(NOW)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => child.once("message", (m) => resolve(m as Record<string, unknown>)));
  const { port, secret } = await next();
  return {
    url: `http://127.0.0.1:${port}`,
    secret: String(secret),
    async cpuMs() {
      const answer = next();
      child.send("cpu");
      return Number((await answer).cpuMs);
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send("stop");
      await exited;
    },
  };
}

async function serverCpu(db: string): Promise<number> {
  if (!db.startsWith("postgres")) return 0;
  let sum = 0;
  for (const ms of (await serverCpuByPid(db)).values()) sum += ms;
  return sum;
}

async function runEngine(engine: "sqlite" | "postgres", dir: string, rows: ReturnType<typeof touchAt>[]): Promise<string[][]> {
  const label = engine === "sqlite" ? "SQLite" : "PostgreSQL";
  const fresh = async (name: string) =>
    engine === "sqlite" ? join(dir, `${name}.db`) : await createPostgresDatabase(PG_ADMIN_URL, `${PG_PREFIX}${name}_${process.pid}`);
  const out: string[][] = [];

  // Baseline: the CSV import of the batched rows, in its own process.
  const csvDb = await fresh("csv");
  await seed(csvDb);
  const file = join(dir, "touches.csv");
  writeFileSync(
    file,
    ["customer_id,occurred_at,kind,note", ...rows.slice(0, TOUCHES).map((t) => `${t.customer_id},${t.occurred_at},${t.kind},${t.note}`)].join("\n"),
  );
  const csv = runPhase(script, "import", ["--db", csvDb, "--file", file, "--now", String(NOW)]);
  out.push([
    label,
    "CSV import of the batched rows (baseline)",
    fmtInt(Number(csv.rows)),
    fmtS(csv.wallMs),
    fmtInt((TOUCHES / csv.wallMs) * 1000),
    fmtS(csv.cpuMs),
    csv.serverCpuMs === undefined ? "" : fmtS(csv.serverCpuMs),
    "",
    "",
    "",
  ]);

  const apiDb = await fresh("api");
  await seed(apiDb);
  const server = await startServer(apiDb);
  let errors = 0;
  const post = async (items: unknown[]) => {
    const response = await fetch(`${server.url}/api/v1/touches`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ items }),
    });
    if (response.status !== 200) errors++;
    await response.arrayBuffer();
  };
  // Batches of 1,000, one after the other.
  const cpu0 = await server.cpuMs();
  const db0 = await serverCpu(apiDb);
  const started = performance.now();
  for (let i = 0; i < TOUCHES; i += 1000) await post(rows.slice(i, i + 1000));
  const batchMs = performance.now() - started;
  out.push([
    label,
    "API, batches of 1,000",
    fmtInt(TOUCHES),
    fmtS(batchMs),
    fmtInt((TOUCHES / batchMs) * 1000),
    fmtS((await server.cpuMs()) - cpu0),
    engine === "postgres" ? fmtS((await serverCpu(apiDb)) - db0) : "",
    "",
    "",
    String(errors),
  ]);

  // Single events at RATE per second, open loop: first WARMUP requests (the server's first
  // burst: on PostgreSQL its pool opens connections and each plans its statements), then
  // the measured run, each its own row.
  const singlesRow = async (phase: string, bodies: string[]) => {
    const cpu = await server.cpuMs();
    const db = await serverCpu(apiDb);
    const load = await openLoad({
      url: server.url,
      path: "/api/v1/touches",
      rate: RATE,
      count: bodies.length,
      bodies,
      secret: "",
      bearer: server.secret,
      timeoutMs: 5_000,
    });
    const cpuMs = (await server.cpuMs()) - cpu;
    const dbMs = (await serverCpu(apiDb)) - db;
    const sorted = load.latencies.sort((a, b) => a - b);
    const failed = load.errors + load.timeouts;
    out.push([
      label,
      phase,
      fmtInt(bodies.length),
      fmtS(load.wallMs),
      fmtInt((load.ok / load.wallMs) * 1000),
      fmtS(cpuMs),
      engine === "postgres" ? fmtS(dbMs) : "",
      percentile(sorted, 50).toFixed(1),
      percentile(sorted, 99).toFixed(1),
      `${failed}${failed > 0 ? ` ${JSON.stringify(load.statuses)}` : ""}`,
    ]);
    errors += failed;
    return { cpuMs, dbMs, p99: percentile(sorted, 99), failed };
  };
  const single = (t: unknown) => JSON.stringify({ items: [t] });
  if (WARMUP > 0) await singlesRow(`API, first ${fmtInt(WARMUP)} single events at ${RATE}/s (cold)`, rows.slice(TOUCHES, TOUCHES + WARMUP).map(single));
  const measured = await singlesRow(`API, single events at ${RATE}/s (open loop)`, rows.slice(TOUCHES + WARMUP).map(single));
  console.log(
    `${label}: server CPU per single request ${(measured.cpuMs / SINGLES).toFixed(2)} ms${engine === "postgres" ? ` (+ ${(measured.dbMs / SINGLES).toFixed(2)} ms in PostgreSQL's backends)` : ""}; target ≤ 1 ms on SQLite; singles p99 ${measured.p99.toFixed(1)} ms (target ≤ 50 ms), ${measured.failed} failed`,
  );
  await server.stop();

  const store = await openStore(apiDb);
  const stored = await countTouches(store.db, { from: 0, until: NOW, ownerSlackId: null });
  await store.close();
  const expected = TOUCHES + WARMUP + SINGLES;
  console.log(`${label}: ${errors} errors; stored ${fmtInt(stored)} of ${fmtInt(expected)} touches${stored === expected ? " (each once)" : " (MISMATCH)"}`);
  return out;
}

async function main(): Promise<void> {
  const engine = String(args.engine ?? "sqlite");
  const engines = engine === "both" ? (["sqlite", "postgres"] as const) : engine === "postgres" ? (["postgres"] as const) : (["sqlite"] as const);
  const rows = Array.from({ length: TOUCHES + WARMUP + SINGLES }, (_, i) => touchAt(i));
  const tmp = tempDb("keepwarm-bench-api-");
  console.log(
    `API ingest benchmark: ${fmtInt(TOUCHES)} batched + ${fmtInt(WARMUP)} + ${fmtInt(SINGLES)} single touches, ${fmtInt(CUSTOMERS)} customers; ${machineLine()}`,
  );
  if (engines.includes("postgres" as never)) await dropPostgresDatabases(PG_ADMIN_URL, PG_PREFIX);
  try {
    const results: string[][] = [["engine", "phase", "events", "wall", "events/s", "API CPU", "PG server CPU", "p50 ms", "p99 ms", "errors"]];
    for (const on of engines) results.push(...(await runEngine(on, tmp.dir, rows)));
    console.log(table(results));
    console.log("CPU: the API server's process (or the import's), user + system; PG server CPU: its backends, from /proc.");
  } finally {
    tmp.cleanup();
    if (engines.includes("postgres" as never)) await dropPostgresDatabases(PG_ADMIN_URL, PG_PREFIX);
  }
}

if (args.phase === "serve") await serve(String(args.db));
else if (args.phase === "import") await importPhase(String(args.db), String(args.file));
else await main();
