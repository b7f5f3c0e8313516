/**
 * /touch benchmark: signed slash commands over loopback at a fixed rate against the
 * real bot (createApp, HTTP mode) on a seeded SQLite file, with the fake Slack Web API
 * receiving the ephemeral answers at response_url.
 *
 *   node --import tsx bench/touch.ts [--rate 500] [--seconds 20] [--customers 10000]
 *
 * Three processes, so none shares an event loop with another: this one (data, fake
 * Slack, checks), the bot (`--phase bot`) and the load generator (`--phase load`).
 * The load is open-loop: sends are scheduled on a timer whatever the answers do, and
 * latency is counted from the *scheduled* send time, so a stalled server cannot hide
 * its queueing (no coordinated omission). Baselines of the same run: the same number
 * of GET /healthz at the same rate (HTTP + a few SQL reads in the same bot), and the
 * handler's own work (parseTouchText + logTouch) called directly on a copy of the data.
 */
import { type ChildProcess, fork } from "node:child_process";
import { copyFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createApp } from "../packages/bot/src/index";
import { parseEnv } from "../packages/core/src/env";
import { seededRandom } from "../packages/core/src/demo-data";
import { logTouch } from "../packages/core/src/touches";
import { parseTouchText } from "../packages/core/src/touch-text";
import { Calendar } from "../packages/rules/src/index";
import { countTouchesBySource, DAY_MS, insertCustomers, openStore, writeTransaction } from "../packages/store/src/index";
import { FakeSlack } from "../packages/testkit/src/fake-slack";
import { slashCommandBody } from "../packages/testkit/src/slack-signing";
import { benchArgs, fmtInt, intArg, machineLine, peakRssMiB, table, tempDb } from "./lib";
import { type LoadResult, openLoad, percentile } from "./open-loop";

const args = benchArgs({
  rate: { type: "string" },
  seconds: { type: "string" },
  customers: { type: "string" },
  url: { type: "string" },
  path: { type: "string" },
  requests: { type: "string" },
  slack: { type: "string" },
});
const script = fileURLToPath(import.meta.url);
const SECRET = "bench-signing-secret";
const TEAM = "T0BENCH";
const TIMEOUT_MS = 3000; // Slack gives up on a slash command after 3 s.

// ---------------------------------------------------------------- data

const FIRST = [
  "Acme",
  "Globex",
  "Initech",
  "Umbrella",
  "Hooli",
  "Vandelay",
  "Stark",
  "Wayne",
  "Tyrell",
  "Cyberdyne",
  "Soylent",
  "Wonka",
  "Gringotts",
  "Oscorp",
  "Aperture",
  "Monarch",
  "Nakatomi",
  "Dunder",
  "Sterling",
  "Prestige",
];
const SECOND = ["Trading", "Logistics", "Foods", "Labs", "Systems", "Partners", "Holdings", "Retail", "Media", "Energy"];
const CODE = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const KINDS = ["call", "email", "meeting", "visit", "chat", "other"] as const;
const NOTES = ["renewal looks safe", "left a voicemail", "asked about pro pricing, sent the deck", "quarterly review with 3 attendees", "onboarding follow-up"];

const externalId = (i: number) => `C-${String(i).padStart(5, "0")}`;

/** Names like "Acme Trading Q7X3K": 200 shared two-word stems (ambiguous on purpose), a unique code. */
function customerNames(count: number): string[] {
  const random = seededRandom(11);
  const names = new Set<string>();
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const stem = `${FIRST[i % FIRST.length]} ${SECOND[Math.floor(i / FIRST.length) % SECOND.length]}`;
    let code = "";
    for (let k = 0; k < 5; k++) code += CODE[Math.floor(random() * CODE.length)];
    const name = `${stem} ${code}`;
    if (names.has(name)) continue;
    names.add(name);
    out.push(name);
  }
  return out;
}

interface PlannedTouch {
  text: string;
  /** What must be stored: customer external id, kind, UTC day; null when the text is ambiguous on purpose. */
  expect: { customer: string; kind: string; day: string } | null;
  shape: string;
}

/** The phrasings reps use, in a fixed mix; 5 % name only a shared stem and must log nothing. */
function planTouches(names: string[], count: number, now: number): PlannedTouch[] {
  const random = seededRandom(23);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const lower = names.map((n) => n.toLowerCase());
  const sorted = [...lower].sort();
  const startsWith = (prefix: string) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] ?? "") < prefix) lo = mid + 1;
      else hi = mid;
    }
    let n = 0;
    while ((sorted[lo + n] ?? "").startsWith(prefix)) n++;
    return n;
  };
  const today = Math.floor(now / DAY_MS);
  const iso = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
  const plans: PlannedTouch[] = [];
  for (let i = 0; i < count; i++) {
    const index = Math.floor(random() * names.length);
    const name = names[index] ?? "";
    const roll = random();
    if (roll < 0.05) {
      // Only the stem: "Acme Trading call", many customers share it → buttons, no touch.
      const stem = name.split(" ").slice(0, 2).join(" ");
      plans.push({ text: `${stem} ${pick(KINDS)}`, expect: null, shape: "ambiguous stem" });
      continue;
    }
    let who: string;
    let shape: string;
    if (roll < 0.35) {
      who = random() < 0.5 ? externalId(index + 1) : externalId(index + 1).toLowerCase();
      shape = "by id";
    } else if (roll < 0.7) {
      who = random() < 0.5 ? name : name.toLowerCase();
      shape = "by name";
    } else if (roll < 0.8) {
      who = `"${name}"`;
      shape = "quoted name";
    } else {
      // The shortest unique prefix that keeps the stem, e.g. "acme trading q7".
      let cut = name.lastIndexOf(" ") + 2;
      while (cut < name.length && startsWith(name.slice(0, cut).toLowerCase()) > 1) cut++;
      who = name.slice(0, cut);
      shape = "unique prefix";
    }
    const kindGiven = random() < 0.85;
    const kind = kindGiven ? pick(KINDS) : "other";
    const dateRoll = random();
    let day = today;
    let date = "";
    if (dateRoll < 0.3) date = "today";
    else if (dateRoll < 0.55) {
      date = "yesterday";
      day = today - 1;
    } else if (dateRoll < 0.75) {
      day = today - 2 - Math.floor(random() * 30);
      date = iso(day);
    }
    const note = random() < 0.6 ? pick(NOTES) : "";
    // A prefix needs a kind or date after it to end the name.
    const words = [who, kindGiven || shape === "unique prefix" ? kind : "", date, note].filter((w) => w !== "");
    plans.push({ text: words.join(" "), expect: { customer: externalId(index + 1), kind, day: iso(day) }, shape });
  }
  return plans;
}

async function seed(path: string, names: string[]): Promise<void> {
  const store = await openStore(path);
  const created = Date.now() - 400 * DAY_MS;
  const customers = names.map((name, i) => ({
    external_id: externalId(i + 1),
    name,
    segment: "smb",
    owner_slack_id: `U${String(i % 40).padStart(8, "0")}`,
    since_at: created,
    loyalty_member: 0,
    attributes: "{}",
    created_at: created,
    updated_at: created,
  }));
  await writeTransaction(store.db, (trx) => insertCustomers(trx, customers));
  await store.close();
}

// ---------------------------------------------------------------- the bot, in its own process

async function botPhase(): Promise<void> {
  const db = String(args.db);
  const store = await openStore(db);
  const env = parseEnv({ KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-bench", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: String(args.slack) });
  const quiet = {
    info: () => {},
    warn: (m: string) => process.stderr.write(`[bot] warning: ${m}\n`),
    error: (m: string) => process.stderr.write(`[bot] error: ${m}\n`),
  };
  const bot = createApp({ store, env, teamId: TEAM, logger: quiet, host: "127.0.0.1" });
  const port = await bot.start(0);
  process.on("message", async (message: { cmd: string }) => {
    if (message.cmd === "usage") {
      const cpu = process.cpuUsage();
      process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: peakRssMiB() });
    } else if (message.cmd === "stop") {
      await bot.stop();
      await store.close();
      process.send?.({ stopped: true }, () => process.exit(0));
    }
  });
  process.send?.({ port });
}

// ---------------------------------------------------------------- the load generator, in its own process

async function loadPhase(): Promise<void> {
  const path = String(args.path);
  const bodies: string[] = [];
  if (path === "/slack/events") {
    const texts = JSON.parse(await readStdin()) as string[];
    texts.forEach((text, i) => {
      bodies.push(
        slashCommandBody({
          command: "/touch",
          text,
          team_id: TEAM,
          user_id: `U${String(i % 40).padStart(8, "0")}`,
          response_url: `${args.slack}/response/${i}`,
        }),
      );
    });
  }
  const result = await openLoad({
    url: String(args.url),
    path,
    rate: intArg(args.rate, 500, "rate"),
    count: intArg(args.requests, 10_000, "requests"),
    bodies,
    secret: SECRET,
    timeoutMs: TIMEOUT_MS,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function runLoad(url: string, path: string, requests: number, rate: number, slack: string, texts?: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(script, ["--phase", "load", "--url", url, "--path", path, "--requests", String(requests), "--rate", String(rate), "--slack", slack], {
      stdio: ["pipe", "pipe", "inherit", "ipc"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}") as LoadResult);
    });
    child.stdin?.end(texts ? JSON.stringify(texts) : "");
  });
}

// ---------------------------------------------------------------- baseline: the handler's work, called directly

async function directPhase(): Promise<void> {
  const store = await openStore(String(args.db));
  const texts = JSON.parse(await readStdin()) as string[];
  const calendar = new Calendar("UTC");
  const cpu = process.cpuUsage();
  const started = performance.now();
  const each: number[] = [];
  let logged = 0;
  for (const text of texts) {
    const t0 = performance.now();
    const now = Date.now();
    const parsed = await parseTouchText(store, text, now, calendar);
    if (parsed.ok) {
      await logTouch(store, {
        customerId: parsed.customer.id,
        kind: parsed.kind,
        occurredAt: parsed.occurredAt,
        note: parsed.note,
        loggedBy: "U0BENCH",
        source: "slack",
        now,
      });
      logged++;
    }
    each.push(performance.now() - t0);
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await store.close();
  process.stdout.write(`${JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000, logged, latencies: each })}\n`);
}

function runDirect(db: string, texts: string[]): Promise<{ wallMs: number; cpuMs: number; logged: number; latencies: number[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, ["--phase", "direct", "--db", db], { stdio: ["pipe", "pipe", "inherit", "ipc"] });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}")) : reject(new Error(`direct phase exited with ${code}`)),
    );
    child.stdin?.end(JSON.stringify(texts));
  });
}

// ---------------------------------------------------------------- orchestration

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd });
  });
}

async function main(): Promise<void> {
  const rate = intArg(args.rate, 500, "rate");
  const seconds = intArg(args.seconds, 20, "seconds");
  const customers = intArg(args.customers, 10_000, "customers");
  const requests = rate * seconds;
  console.log(`touch benchmark: ${fmtInt(requests)} signed /touch at ${rate}/s for ${seconds} s, ${fmtInt(customers)} customers`);
  console.log(machineLine());
  const tmp = tempDb("keepwarm-bench-touch-");
  const fake = await new FakeSlack({ teamId: TEAM }).start();
  let bot: ChildProcess | undefined;
  try {
    const names = customerNames(customers);
    await seed(tmp.path, names);
    const copy = `${tmp.dir}/direct.db`;
    copyFileSync(tmp.path, copy);
    const plans = planTouches(names, requests, Date.now());
    const texts = plans.map((p) => p.text);

    const child = fork(script, ["--phase", "bot", "--db", tmp.path, "--slack", fake.apiUrl], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    bot = child;
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { port: number }));
      child.once("exit", (code) => reject(new Error(`bot exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;

    const loadBefore = loadavg1();
    const cpu0 = await ask<{ cpuMs: number }>(child, "usage");
    const health = await runLoad(base, "/healthz", requests, rate, fake.url);
    const cpu1 = await ask<{ cpuMs: number }>(child, "usage");
    const touch = await runLoad(base, "/slack/events", requests, rate, fake.url, texts);
    // The ephemeral answers go out after the ack; give the last ones a moment.
    await fake.waitFor(() => fake.responses.length >= requests || undefined, 10_000).catch(() => undefined);
    const cpu2 = await ask<{ cpuMs: number; peakRssMiB: number }>(child, "usage");
    const loadAfter = loadavg1();
    await ask(child, "stop");
    bot = undefined;

    const direct = await runDirect(copy, texts);

    // Every touch stored, exactly as asked: compare (customer, kind, day) multisets.
    const expected = new Map<string, number>();
    for (const p of plans)
      if (p.expect)
        expected.set(`${p.expect.customer}|${p.expect.kind}|${p.expect.day}`, (expected.get(`${p.expect.customer}|${p.expect.kind}|${p.expect.day}`) ?? 0) + 1);
    const store = await openStore(tmp.path);
    const stored = await countTouchesBySource(store.db, "slack");
    await store.close();
    const got = new Map<string, number>();
    let storedTotal = 0;
    for (const row of stored) {
      const key = `${row.customer}|${row.kind}|${new Date(row.at).toISOString().slice(0, 10)}`;
      got.set(key, (got.get(key) ?? 0) + row.n);
      storedTotal += row.n;
    }
    let missing = 0;
    let extra = 0;
    for (const [key, n] of expected) missing += Math.max(0, n - (got.get(key) ?? 0));
    for (const [key, n] of got) extra += Math.max(0, n - (expected.get(key) ?? 0));
    const shouldLog = plans.filter((p) => p.expect !== null).length;
    const answered = new Set(fake.responses.map((r) => r.id)).size;

    const row = (label: string, r: { latencies: number[]; ok?: number; errors?: number; timeouts?: number }, cpuMs: number, extraCells: string[] = []) => {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const ms = (p: number) => `${percentile(sorted, p).toFixed(1)} ms`;
      return [
        label,
        ms(50),
        ms(90),
        ms(99),
        `${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms`,
        r.errors === undefined ? "" : String((r.errors ?? 0) + (r.timeouts ?? 0)),
        `${(cpuMs / 1000).toFixed(2)} s`,
        ...extraCells,
      ];
    };
    console.log("");
    console.log(
      table([
        ["phase", "p50", "p90", "p99", "max", "errors", "bot CPU", "load gen CPU"],
        row(`baseline: GET /healthz × ${fmtInt(requests)} at ${rate}/s`, health, cpu1.cpuMs - cpu0.cpuMs, [`${(health.cpuMs / 1000).toFixed(2)} s`]),
        row(`signed /touch × ${fmtInt(requests)} at ${rate}/s`, touch, cpu2.cpuMs - cpu1.cpuMs, [`${(touch.cpuMs / 1000).toFixed(2)} s`]),
        row("baseline: parseTouchText + logTouch, direct", direct, direct.cpuMs),
      ]),
    );
    console.log("");
    console.log(
      `statuses: healthz ${JSON.stringify(health.statuses)}, /touch ${JSON.stringify(touch.statuses)}; max send lag of the generator ${touch.maxSendLagMs.toFixed(1)} ms`,
    );
    console.log(
      `/touch: sent over ${(touch.wallMs / 1000).toFixed(2)} s; bot CPU ${((cpu2.cpuMs - cpu1.cpuMs) / requests).toFixed(2)} ms per request (healthz ${((cpu1.cpuMs - cpu0.cpuMs) / requests).toFixed(2)} ms, direct ${(direct.cpuMs / requests).toFixed(2)} ms); bot peak RSS ${cpu2.peakRssMiB} MiB`,
    );
    const shapes = new Map<string, number>();
    for (const p of plans) shapes.set(p.shape, (shapes.get(p.shape) ?? 0) + 1);
    console.log(`phrasings: ${[...shapes].map(([s, n]) => `${s} ${n}`).join(", ")}`);
    console.log(
      `stored: ${fmtInt(storedTotal)} slack touches for ${fmtInt(shouldLog)} that should log (${fmtInt(requests - shouldLog)} ambiguous on purpose, answered with buttons); missing ${missing}, unexpected ${extra}; ephemeral answers received ${fmtInt(answered)}/${fmtInt(requests)}; direct baseline logged ${fmtInt(direct.logged)}`,
    );
    console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
    const p99 = percentile(
      [...touch.latencies].sort((a, b) => a - b),
      99,
    );
    const met = p99 <= 50 && touch.ok === requests && missing === 0 && extra === 0 && storedTotal === shouldLog;
    console.log(`target p99 ≤ 50 ms, zero errors, every touch stored: ${met ? "met" : "NOT met"}`);
  } finally {
    if (bot) bot.kill();
    await fake.stop();
    tmp.cleanup();
  }
}

const loadavg1 = (): number => loadavg()[0] ?? 0;

if (args.phase === "bot") await botPhase();
else if (args.phase === "load") await loadPhase();
else if (args.phase === "direct") await directPhase();
else await main();
