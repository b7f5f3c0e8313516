/**
 * Handlers first: signed `/touch` at a fixed rate while the bot delivers a large backlog
 * of nudges to a fake Slack, next to the same load with no backlog (same bot, same run).
 *
 *   node --import tsx bench/touch-under-delivery.ts [--nudges 80000] [--requests 1000] [--rate 100] [--touches 1000000]
 *
 * Three processes: this one (data, fake Slack Web API, the sweep that plans the backlog,
 * checks), the bot (`--phase bot`: createApp, HTTP mode, its delivery loop on) and the
 * open-loop load generator (`--phase load`). Each nudge goes to its own rep's DM (no
 * digests, no daily budget), the heaviest shape of a backlog: one lane per channel.
 * Then the cost of one `/touch` (parse + log, called directly) with 10k and with
 * `--touches` stored touches: it must not grow with the history.
 */
import { type ChildProcess, fork } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createApp } from "../packages/bot/src/index";
import { parseEnv } from "../packages/core/src/env";
import { runSweep } from "../packages/core/src/sweep";
import { logTouch } from "../packages/core/src/touches";
import { parseTouchText } from "../packages/core/src/touch-text";
import { Calendar } from "../packages/rules/src/index";
import { DAY_MS, insertCustomers, openSeedLoader, openStore, outboxStatusCounts, type Store, writeTransaction } from "../packages/store/src/index";
import { FakeSlack } from "../packages/testkit/src/fake-slack";
import { slashCommandBody } from "../packages/testkit/src/slack-signing";
import { benchArgs, fmtInt, intArg, machineLine, table, tempDb } from "./lib";
import { type LoadResult, openLoad, percentile } from "./open-loop";

const args = benchArgs({
  nudges: { type: "string" },
  requests: { type: "string" },
  rate: { type: "string" },
  touches: { type: "string" },
  url: { type: "string" },
  slack: { type: "string" },
});
const script = fileURLToPath(import.meta.url);
const SECRET = "bench-signing-secret";
const TEAM = "T0BENCH";
const TIMEOUT_MS = 3000; // Slack gives up on an interactive request after 3 s.

const externalId = (i: number) => `C-${String(i).padStart(7, "0")}`;
const owner = (i: number) => `U${String(i).padStart(9, "0")}`;

/** `count` customers quiet for 60 days (each matches "no-contact"), each owned by its own rep. */
async function seedCustomers(store: Store, count: number): Promise<void> {
  const since = Date.now() - 60 * DAY_MS;
  const rows = Array.from({ length: count }, (_, i) => ({
    external_id: externalId(i),
    name: `Customer ${i}`,
    segment: "smb",
    owner_slack_id: owner(i),
    since_at: since,
    loyalty_member: 0,
    attributes: "{}",
    created_at: since,
    updated_at: since,
  }));
  await writeTransaction(store.db, (trx) => insertCustomers(trx, rows));
}

// ---------------------------------------------------------------- the bot, in its own process

async function botPhase(): Promise<void> {
  const db = String(args.db);
  const store = await openStore(db);
  const env = parseEnv({
    KEEPWARM_DB: db,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: String(args.slack),
    KEEPWARM_DIGEST_THRESHOLD: "1000",
    KEEPWARM_MAX_NUDGES_PER_DAY: "1000",
    // The fake Slack takes any pace: deliver as fast as the bot can, the heaviest backlog for the handlers.
    KEEPWARM_SLACK_MESSAGES_PER_SECOND: "1000",
  });
  const quiet = { info: () => {}, warn: () => {}, error: (m: string) => process.stderr.write(`[bot] error: ${m}\n`) };
  const bot = createApp({ store, env, teamId: TEAM, logger: quiet, host: "127.0.0.1", deliveryIntervalMs: 250 });
  const port = await bot.start(0);
  process.on("message", async (message: { cmd: string }) => {
    if (message.cmd === "stop") {
      await bot.stop();
      await store.close();
      process.send?.({ stopped: true }, () => process.exit(0));
    }
  });
  process.send?.({ port });
}

// ---------------------------------------------------------------- the load generator, in its own process

async function loadPhase(): Promise<void> {
  const count = intArg(args.requests, 1000, "requests");
  const customers = intArg(args.nudges, 80_000, "nudges");
  const bodies = Array.from({ length: count }, (_, i) => {
    const c = (i * 7919) % customers;
    return slashCommandBody({
      command: "/touch",
      text: `${externalId(c)} call yesterday left a voicemail`,
      team_id: TEAM,
      user_id: owner(c),
      response_url: `${args.slack}/response/${i}`,
    });
  });
  const result = await openLoad({
    url: String(args.url),
    path: "/slack/events",
    rate: intArg(args.rate, 100, "rate"),
    count,
    bodies,
    secret: SECRET,
    timeoutMs: TIMEOUT_MS,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runLoad(url: string, slack: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const pass = [
      "--url",
      url,
      "--slack",
      slack,
      "--requests",
      String(args.requests ?? 1000),
      "--rate",
      String(args.rate ?? 100),
      "--nudges",
      String(args.nudges ?? 80_000),
    ];
    const child = fork(script, ["--phase", "load", ...pass], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}") as LoadResult) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

// ---------------------------------------------------------------- the cost of one /touch as history grows

async function touchCost(store: Store, samples: number, customers: number): Promise<{ p50: number; mean: number }> {
  const calendar = new Calendar("UTC");
  const each: number[] = [];
  for (let i = 0; i < samples; i++) {
    const c = (i * 104_729) % customers;
    const t0 = performance.now();
    const now = Date.now();
    const parsed = await parseTouchText(store, `${externalId(c)} email today sent the deck`, now, calendar);
    if (!parsed.ok) throw new Error(`bench: ${externalId(c)} not found`);
    await logTouch(store, {
      customerId: parsed.customer.id,
      kind: parsed.kind,
      occurredAt: parsed.occurredAt,
      note: parsed.note,
      loggedBy: owner(c),
      source: "slack",
      now,
    });
    each.push(performance.now() - t0);
  }
  const sorted = [...each].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), mean: each.reduce((s, x) => s + x, 0) / each.length };
}

/** History up to `upTo` touches (through the store's seed loader), spread over every customer. */
function addTouches(store: Store, upTo: number, have: number, customers: number): void {
  const loader = openSeedLoader(store);
  const base = Date.now() - 300 * DAY_MS;
  for (let start = have; start < upTo; start += 50_000) {
    loader.batch((write) => {
      for (let i = start; i < Math.min(upTo, start + 50_000); i++) write.touch((i % customers) + 1, "call", base + i * 1000, "U000000000");
    });
  }
}

// ---------------------------------------------------------------- orchestration

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd });
  });
}

async function main(): Promise<void> {
  const nudges = intArg(args.nudges, 80_000, "nudges");
  const requests = intArg(args.requests, 1000, "requests");
  const rate = intArg(args.rate, 100, "rate");
  const touches = intArg(args.touches, 1_000_000, "touches");
  console.log(machineLine());
  const tmp = tempDb("keepwarm-bench-handlers-");
  const fake = await new FakeSlack({ teamId: TEAM }).start();
  let bot: ChildProcess | undefined;
  try {
    const store = await openStore(tmp.path);
    await seedCustomers(store, nudges);
    bot = fork(script, ["--phase", "bot", "--db", tmp.path, "--slack", fake.apiUrl], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const { port } = await new Promise<{ port: number }>((resolve) => bot?.once("message", (m) => resolve(m as { port: number })));
    const url = `http://127.0.0.1:${port}`;

    const idle = await runLoad(url, fake.url);
    const started = performance.now();
    const swept = await runSweep(store, { calendar: new Calendar("UTC") });
    const sweepMs = performance.now() - started;
    const postsBefore = fake.callsOf("chat.postMessage").length;
    const busy = await runLoad(url, fake.url);
    const postedDuring = fake.callsOf("chat.postMessage").length - postsBefore;
    const counts = await outboxStatusCounts(store.db);
    const methods = new Map<string, number>();
    for (const call of fake.calls) methods.set(call.method, (methods.get(call.method) ?? 0) + 1);
    await ask(bot, "stop");
    bot = undefined;

    const row = (label: string, r: LoadResult) => {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const ms = (p: number) => `${percentile(sorted, p).toFixed(1)} ms`;
      return [label, ms(50), ms(99), `${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms`, String(r.errors + r.timeouts)];
    };
    console.log("");
    console.log(
      table([
        ["phase", "p50", "p99", "max", "failures"],
        row(`baseline: /touch × ${fmtInt(requests)} at ${rate}/s, nothing to deliver`, idle),
        row(`/touch × ${fmtInt(requests)} at ${rate}/s during a ${fmtInt(swept.created)}-nudge delivery`, busy),
      ]),
    );
    console.log("");
    console.log(
      `backlog: sweep planned ${fmtInt(swept.created)} nudges in ${(sweepMs / 1000).toFixed(1)} s; ${fmtInt(postedDuring)} posted to Slack during the load (${(busy.wallMs / 1000).toFixed(1)} s); outbox after: ${JSON.stringify(counts)}; Slack calls ${JSON.stringify(Object.fromEntries(methods))}`,
    );
    const p99 = percentile(
      [...busy.latencies].sort((a, b) => a - b),
      99,
    );
    console.log(`target p99 ≤ 500 ms and zero failures during delivery: ${p99 <= 500 && busy.errors + busy.timeouts === 0 ? "met" : "NOT met"}`);

    // The cost of one /touch does not grow with the touches stored (an index probe per customer).
    addTouches(store, 10_000, 0, nudges);
    const at10k = await touchCost(store, 300, nudges);
    addTouches(store, touches, 10_000 + 300, nudges);
    const atMany = await touchCost(store, 300, nudges);
    console.log("");
    console.log(
      table([
        ["stored touches", "one /touch (parse + log), p50", "mean"],
        ["10,000", `${at10k.p50.toFixed(2)} ms`, `${at10k.mean.toFixed(2)} ms`],
        [fmtInt(touches), `${atMany.p50.toFixed(2)} ms`, `${atMany.mean.toFixed(2)} ms`],
      ]),
    );
    console.log(`load average (1 min) at the end: ${(loadavg()[0] ?? 0).toFixed(2)}`);
    await store.close();
  } finally {
    bot?.kill();
    await fake.stop();
    tmp.cleanup();
  }
}

if (args.phase === "bot") await botPhase();
else if (args.phase === "load") await loadPhase();
else await main();
