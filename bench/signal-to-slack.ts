/**
 * Signal to Slack: an NPS drop posted to the HTTP API, to its nudge at the Slack Web API.
 *
 *   node --import tsx bench/signal-to-slack.ts [--customers 100000] [--events 200] [--engine sqlite|postgres|both] [--db cache.db]
 *
 * The real bot (createApp: its HTTP server with /api/v1, its real-time evaluation loop
 * and its delivery loop, as `keepwarm bot` runs them) against the fake Slack Web API,
 * all on loopback, over a generated book of customers (bench/generate.ts, the store's
 * seed loader) with the default rules, swept once before measuring (steady state).
 * Each event is one request with a real ingest token: a 9 a while ago and a 2 now, for a
 * customer no rule matched before, with an owner of its own. Latency is from the
 * request's start to the moment the fake Slack received the chat.postMessage naming
 * the customer. Baseline: 200 events with no sweep running; then 200 others while
 * sweeps of every customer run back to back in the same process (as `keepwarm start`
 * runs bot and worker). The target: p99 ≤ 5 s while the sweep runs.
 */
import { existsSync } from "node:fs";
import { createApiToken } from "../packages/api/src/index";
import { createApp } from "../packages/bot/src/index";
import { parseEnv } from "../packages/core/src/env";
import { ingestItems } from "../packages/core/src/import/ingest";
import { applyRuleSet } from "../packages/core/src/rule-sets";
import { findMatches, runSweep } from "../packages/core/src/sweep";
import { Calendar, defaultRulesText } from "../packages/rules/src/index";
import { openStore, type Store, scanFactRows } from "../packages/store/src/index";
import { FakeSlack } from "../packages/testkit/src/fake-slack";
import { generate } from "./generate";
import { benchArgs, fmtInt, intArg, machineLine, table, tempDb } from "./lib";
import { DEFAULT_PG_ADMIN_URL, postgresCopyOf } from "./postgres";

const args = benchArgs({ customers: { type: "string" }, events: { type: "string" }, engine: { type: "string" }, db: { type: "string" } });
const CUSTOMERS = intArg(args.customers, 100_000, "--customers");
const EVENTS = intArg(args.events, 200, "--events");
const ENGINES =
  args.engine === undefined || args.engine === "sqlite"
    ? ["sqlite"]
    : args.engine === "postgres"
      ? ["postgres"]
      : args.engine === "both"
        ? ["sqlite", "postgres"]
        : [];
if (ENGINES.length === 0) {
  console.error(`--engine must be sqlite, postgres or both, got "${String(args.engine)}"`);
  process.exit(2);
}
/**
 * Events are sent this far apart: a steady trickle just under the workspace pace the
 * measured bot runs at (KEEPWARM_SLACK_MESSAGES_PER_SECOND's default, 4 a second, close
 * to what Slack itself allows a workspace), so no event waits behind the pace itself.
 */
const SPACING_MS = 300;
/** How long one event may take before it counts as lost. */
const GIVE_UP_MS = 60_000;
const UTC = new Calendar("UTC");
const TEAM = "T0BENCH";

interface PhaseFigures {
  latencies: number[];
  lost: number;
  cpuMs: number;
  wallMs: number;
  sweeps: number;
  duringSweep: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** Customers no rule matches now (an NPS drop will be their only nudge), `count` of them. */
async function quietCustomers(store: Store, count: number, now: number): Promise<string[]> {
  const ruleSet = await applyRuleSet(store, defaultRulesText(), { author: "bench", source: "default rules" });
  const { matches } = await findMatches(store, ruleSet.ruleSet, { calendar: UTC, now });
  const matched = new Set(matches.map((m) => m.customerId));
  const picked: string[] = [];
  for await (const rows of scanFactRows(store, now, [])) {
    for (const row of rows) if (!matched.has(row.id) && picked.length < count) picked.push(row.externalId);
    if (picked.length >= count) break;
  }
  if (picked.length < count) throw new Error(`only ${picked.length} customers match no rule; need ${count}`);
  return picked;
}

async function runEngine(engine: string, source: string): Promise<{ baseline: PhaseFigures; underSweep: PhaseFigures; sweepMs: number }> {
  const pg = engine === "postgres" ? await postgresCopyOf(DEFAULT_PG_ADMIN_URL, source) : undefined;
  const location = pg?.url ?? source;
  const store = await openStore(location);
  const fake = await new FakeSlack({ teamId: TEAM }).start();
  try {
    const now = Date.now();
    const progress = (line: string) => process.stderr.write(`[${engine}] ${line}\n`);
    const signals = await quietCustomers(store, 2 * EVENTS, now);
    progress("signal customers picked");
    // Each signal customer gets a name to find its message by, and an owner of its own (no rep's daily budget in the way).
    const names = signals.map((_, i) => `Signal-${String(i).padStart(5, "0")}`);
    await ingestItems(
      store,
      "customers",
      signals.map((id, i) => ({ id, name: names[i], owner_slack_id: `U0SIG${String(i).padStart(5, "0")}` })),
      { now, calendar: UTC },
    );
    // Steady state: the first sweep's nudges exist before anything is measured.
    const started = performance.now();
    await runSweep(store, { calendar: UTC });
    const sweepMs = performance.now() - started;
    progress("first sweep done");
    const { secret } = await createApiToken(store, `bench-${Date.now()}`, ["ingest"]);
    const envOf = (extra: Record<string, string>) =>
      parseEnv({
        KEEPWARM_DB: location,
        KEEPWARM_TZ: "UTC",
        SLACK_BOT_TOKEN: "xoxb-bench",
        SLACK_SIGNING_SECRET: "bench-secret",
        SLACK_API_URL: fake.apiUrl,
        KEEPWARM_API_RATE_LIMIT: "100000",
        ...extra,
      });
    const quiet = {
      info: (m: string) => process.env.BENCH_DEBUG && process.stderr.write(`[bot] ${m}\n`),
      warn: () => {},
      error: (m: string) => process.stderr.write(`[bot] error: ${m}\n`),
    };
    // The first sweep's backlog (thousands of DMs) goes out first, through a bot without
    // the workspace pace: at 4 a second it would take the better part of an hour.
    const drainer = createApp({ store, env: envOf({ KEEPWARM_SLACK_MESSAGES_PER_SECOND: "1000" }), teamId: TEAM, logger: quiet, host: "127.0.0.1" });
    await drainer.start(0);
    const backlogDeadline = Date.now() + 300_000;
    for (let last = -1; fake.calls.length !== last && Date.now() < backlogDeadline; ) {
      last = fake.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    await drainer.stop();
    progress("backlog delivered");
    // The measured bot runs with the defaults, workspace pace included.
    const bot = createApp({ store, env: envOf({}), teamId: TEAM, logger: quiet, host: "127.0.0.1" });
    const port = await bot.start(0);
    const url = `http://127.0.0.1:${port}/api/v1/nps`;
    try {
      const phase = async (offset: number, sweeping: boolean): Promise<PhaseFigures> => {
        const sentAt = new Map<string, number>();
        const arrivedAt = new Map<string, number>();
        let scanned = 0;
        const watch = setInterval(() => {
          for (; scanned < fake.calls.length; scanned++) {
            const call = fake.calls[scanned];
            if (call?.method !== "chat.postMessage") continue;
            const text = JSON.stringify(call.args);
            const match = /Signal-\d{5}/.exec(text);
            if (match !== null && sentAt.has(match[0]) && !arrivedAt.has(match[0])) arrivedAt.set(match[0], call.at);
          }
        }, 5);
        const cpu = process.cpuUsage();
        const wall = performance.now();
        let sweeps = 0;
        let duringSweep = 0;
        let sweepRunning = false;
        let posting = true;
        const sweepLoop = sweeping
          ? (async () => {
              while (posting) {
                sweepRunning = true;
                await runSweep(store, { calendar: UTC });
                // Back to back, as a busy worker would, but giving the event loop its turn like a cron tick.
                await new Promise((resolve) => setImmediate(resolve));
                sweepRunning = false;
                sweeps++;
              }
            })()
          : Promise.resolve();
        // Let the first sweep get going before the first event.
        if (sweeping) await new Promise((resolve) => setTimeout(resolve, 200));
        const requests: Promise<void>[] = [];
        for (let i = 0; i < EVENTS; i++) {
          const k = offset + i;
          const name = names[k] as string;
          const at = Date.now();
          sentAt.set(name, at);
          if (sweepRunning) duringSweep++;
          requests.push(
            fetch(url, {
              method: "POST",
              headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
              body: JSON.stringify({
                items: [
                  { customer_id: signals[k], score: 9, responded_at: new Date(at - 30 * 86_400_000).toISOString() },
                  { customer_id: signals[k], score: 2, responded_at: new Date(at - 1000).toISOString() },
                ],
              }),
            }).then(async (response) => {
              if (response.status !== 200) throw new Error(`POST /api/v1/nps answered ${response.status}: ${await response.text()}`);
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
        }
        await Promise.all(requests);
        const deadline = Date.now() + GIVE_UP_MS;
        while (arrivedAt.size < EVENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        posting = false;
        await sweepLoop;
        clearInterval(watch);
        const used = process.cpuUsage(cpu);
        const latencies = [...arrivedAt].map(([name, at]) => at - (sentAt.get(name) as number)).sort((a, b) => a - b);
        return { latencies, lost: EVENTS - latencies.length, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall, sweeps, duringSweep };
      };
      const baseline = await phase(0, false);
      progress("baseline done");
      const underSweep = await phase(EVENTS, true);
      return { baseline, underSweep, sweepMs };
    } finally {
      await bot.stop();
    }
  } finally {
    await fake.stop();
    await store.close();
    await pg?.drop();
  }
}

const tmp = tempDb("keepwarm-bench-signal-");
try {
  const cache = args.db === undefined ? undefined : String(args.db);
  const source = cache ?? tmp.path;
  if (cache === undefined || !existsSync(cache)) {
    const generated = await generate(source, CUSTOMERS);
    console.log(`generated ${fmtInt(generated.customers)} customers in ${(generated.ms / 1000).toFixed(1)} s`);
  }
  console.log(machineLine());
  for (const engine of ENGINES) {
    const { baseline, underSweep, sweepMs } = await runEngine(engine, source);
    const row = (label: string, f: PhaseFigures) => [
      label,
      `${fmtInt(pct(f.latencies, 50))} ms`,
      `${fmtInt(pct(f.latencies, 99))} ms`,
      `${fmtInt(f.latencies.at(-1) ?? Number.NaN)} ms`,
      String(f.lost),
      `${fmtInt(f.cpuMs)} ms`,
      f.sweeps === 0 ? "-" : `${f.sweeps} (${f.duringSweep}/${EVENTS} events during one)`,
    ];
    console.log(`\n${engine}: ${fmtInt(CUSTOMERS)} customers, ${EVENTS} NPS drops per phase, one sweep alone ${(sweepMs / 1000).toFixed(1)} s`);
    console.log(
      table([
        ["phase", "p50", "p99", "max", "lost", "process CPU", "sweeps"],
        row("baseline: no sweep running", baseline),
        row("while sweeps run", underSweep),
      ]),
    );
    const p99 = pct(underSweep.latencies, 99);
    console.log(
      `ratio p99 under sweep / baseline: ${(p99 / pct(baseline.latencies, 99)).toFixed(2)}×; target p99 ≤ 5,000 ms while a sweep runs: ${p99 <= 5000 && underSweep.lost === 0 ? "met" : "NOT met"}`,
    );
  }
} finally {
  tmp.cleanup();
}
