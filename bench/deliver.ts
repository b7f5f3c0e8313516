/**
 * Delivery benchmark: 5,000 nudges to 50 channels (100 each) through the bot's own
 * delivery loop (createApp, as `keepwarm bot` runs it) against the fake Slack Web API
 * enforcing one message per second per channel with 429 + Retry-After.
 *
 *   node --import tsx bench/deliver.ts [--channels 50] [--per-channel 100]
 *
 * Two processes, so delivery and Slack do not share an event loop: this one (data,
 * fake Slack, checks, a /healthz probe every 250 ms) and the bot (`--phase bot`).
 * Floor: with one message per second, a channel's 100 messages span at least 99 s.
 * Baseline of the same run: the same nudges with the rate limit off (the delivery
 * code's own cost). Digests are off (threshold above the per-channel count), so every
 * nudge is its own message: the worst case for the rate limit.
 */
import { type ChildProcess, fork } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { ChannelRateLimiter, createApp, deliveryClient, SlackDelivery, startDeliveryLoop } from "../packages/bot/src/index";
import { systemClock } from "../packages/core/src/index";
import { parseEnv } from "../packages/core/src/env";
import { applyRuleSet } from "../packages/core/src/rule-sets";
import { runSweep } from "../packages/core/src/sweep";
import { Calendar } from "../packages/rules/src/index";
import { DAY_MS, insertCustomers, nudgeIdsNotHeldOut, openStore, outboxStatusCounts, writeTransaction } from "../packages/store/src/index";
import { FakeSlack } from "../packages/testkit/src/fake-slack";
import { benchArgs, fmtInt, intArg, machineLine, peakRssMiB, table, tempDb } from "./lib";

const args = benchArgs({ channels: { type: "string" }, "per-channel": { type: "string" }, slack: { type: "string" }, unpaced: { type: "boolean" } });
const script = fileURLToPath(import.meta.url);
const TEAM = "T0BENCH";
const SLACK_INTERVAL_MS = 1000;
const channelName = (c: number) => `team-${String(c).padStart(2, "0")}`;

/** One rule per channel, matching that channel's segment; customers never touched. */
function rulesText(channels: number): string {
  const rules = Array.from({ length: channels }, (_, c) => ({
    id: `quiet-${channelName(c)}`,
    name: `Quiet customer of ${channelName(c)}`,
    enabled: true,
    conditions: {
      all: [
        { fact: "segment", operator: "equal", value: `seg-${c}` },
        { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 },
      ],
    },
    nudge: { message: "{{customer.name}} has gone quiet: {{explanation}}.", destination: `#${channelName(c)}`, cooldownDays: 14 },
  }));
  return JSON.stringify({ rules });
}

async function seed(path: string, channels: number, perChannel: number): Promise<void> {
  const store = await openStore(path);
  const since = Date.now() - 400 * DAY_MS;
  // Interleaved, as customers of many teams arrive: nudges of one channel are spread over the outbox.
  const customers = Array.from({ length: channels * perChannel }, (_, i) => ({
    external_id: `C-${String(i + 1).padStart(6, "0")}`,
    name: `Customer ${i + 1}`,
    segment: `seg-${i % channels}`,
    owner_slack_id: null,
    since_at: since,
    loyalty_member: 0,
    attributes: "{}",
    created_at: since,
    updated_at: since,
  }));
  await writeTransaction(store.db, (trx) => insertCustomers(trx, customers));
  await applyRuleSet(store, rulesText(channels), { author: "bench", source: "cli" });
  await runSweep(store, { calendar: new Calendar("UTC") });
  await store.close();
}

// ---------------------------------------------------------------- the bot, in its own process

async function botPhase(): Promise<void> {
  const db = String(args.db);
  const store = await openStore(db);
  const env = parseEnv({
    KEEPWARM_DB: db,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_SIGNING_SECRET: "bench-secret",
    SLACK_API_URL: String(args.slack),
    KEEPWARM_DIGEST_THRESHOLD: "1000000",
    // This bench measures the per-channel pace: the workspace pace (default 4 a second) is opened wide.
    KEEPWARM_SLACK_MESSAGES_PER_SECOND: "1000",
  });
  const quiet = { info: () => {}, warn: () => {}, error: (m: string) => process.stderr.write(`[bot] error: ${m}\n`) };
  const unpaced = args.unpaced === true;
  const bot = createApp({ store, env, teamId: TEAM, logger: quiet, host: "127.0.0.1", deliveryLoop: !unpaced });
  // The baseline: the same delivery code and loop, with the pacing off.
  const baselineDelivery = unpaced
    ? new SlackDelivery({
        store,
        client: deliveryClient("xoxb-bench", env.SLACK_API_URL),
        digestThreshold: env.KEEPWARM_DIGEST_THRESHOLD,
        limiter: new ChannelRateLimiter(systemClock, 0, 0),
        logger: quiet,
      })
    : undefined;
  let loop: ReturnType<typeof startDeliveryLoop> | undefined;
  process.on("message", async (message: { cmd: string }) => {
    if (message.cmd === "status") {
      const cpu = process.cpuUsage();
      const counts = await outboxStatusCounts(store.db);
      process.send?.({ outbox: counts, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: peakRssMiB() });
    } else if (message.cmd === "stop") {
      await loop?.stop();
      await bot.stop();
      await store.close();
      process.send?.({ stopped: true }, () => process.exit(0));
    }
  });
  // start() also starts the delivery loop, whose first pass begins at once.
  const port = await bot.start(0);
  loop = baselineDelivery ? startDeliveryLoop(baselineDelivery, { logger: quiet }) : undefined;
  process.send?.({ port, startedAt: Date.now() });
}

// ---------------------------------------------------------------- one measured delivery

interface Status {
  outbox: Record<string, number>;
  cpuMs: number;
  peakRssMiB: number;
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd });
  });
}

interface Outcome {
  label: string;
  nudges: number;
  /** First post attempt to the last accepted post. */
  spanMs: number;
  /** Bot ready to the outbox drained. */
  totalMs: number;
  accepted: number;
  refused429: number;
  duplicates: number;
  losses: number;
  minGapMs: number;
  botCpuMs: number;
  botRssMiB: number;
  healthP50: number;
  healthP99: number;
  healthMax: number;
  loadBefore: number;
  loadAfter: number;
}

async function measure(label: string, channels: number, perChannel: number, limited: boolean): Promise<Outcome> {
  const tmp = tempDb("keepwarm-bench-deliver-");
  const fake = await new FakeSlack({ teamId: TEAM, ...(limited ? { channelIntervalMs: SLACK_INTERVAL_MS } : {}) }).start();
  let bot: ChildProcess | undefined;
  try {
    await seed(tmp.path, channels, perChannel);
    const expectedIds = await nudgeIds(tmp.path);
    const loadBefore = loadavg()[0] ?? 0;
    const child = fork(script, ["--phase", "bot", "--db", tmp.path, "--slack", fake.apiUrl, ...(limited ? [] : ["--unpaced"])], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    bot = child;
    const ready = await new Promise<{ port: number; startedAt: number }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { port: number; startedAt: number }));
      child.once("exit", (code) => reject(new Error(`bot exited with ${code}`)));
    });
    // Poll: is the outbox drained? Meanwhile, is the bot still answering HTTP at once?
    const health: number[] = [];
    const deadline = Date.now() + (limited ? 3 * perChannel * SLACK_INTERVAL_MS + 30_000 : 120_000);
    let status: Status;
    for (;;) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${ready.port}/healthz`);
      await res.text();
      health.push(performance.now() - t0);
      status = await ask<Status>(child, "status");
      if ((status.outbox.pending ?? 0) === 0) break;
      if (Date.now() > deadline) {
        console.error(`${label}: gave up waiting: outbox ${JSON.stringify(status.outbox)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const doneAt = Date.now();
    await ask(child, "stop");
    bot = undefined;

    const posts = fake.callsOf("chat.postMessage");
    const attempts = fake.postAttempts;
    const accepted = limited ? attempts.filter((a) => a.accepted) : posts.map((p) => ({ channel: String(p.args.channel), at: p.at, accepted: true }));
    const first = Math.min(...posts.map((p) => p.at));
    const last = Math.max(...accepted.map((a) => a.at));
    let minGapMs = Number.POSITIVE_INFINITY;
    const lastAt = new Map<string, number>();
    for (const a of accepted) {
      const previous = lastAt.get(a.channel);
      if (previous !== undefined) minGapMs = Math.min(minGapMs, a.at - previous);
      lastAt.set(a.channel, a.at);
    }
    // Exactly once, judged by what Slack holds: the nudge id in each message's metadata.
    const postedCount = new Map<number, number>();
    for (const m of fake.allMessages()) {
      const id = Number(m.metadata?.event_payload.nudge_id);
      postedCount.set(id, (postedCount.get(id) ?? 0) + 1);
    }
    const duplicates = [...postedCount.values()].filter((n) => n > 1).length;
    const losses = expectedIds.filter((id) => !postedCount.has(id)).length;
    const sortedHealth = [...health].sort((a, b) => a - b);
    const pct = (p: number) => sortedHealth[Math.min(sortedHealth.length - 1, Math.ceil((p / 100) * sortedHealth.length) - 1)] ?? Number.NaN;
    return {
      label,
      nudges: expectedIds.length,
      spanMs: last - first,
      totalMs: doneAt - ready.startedAt,
      accepted: accepted.length,
      refused429: attempts.filter((a) => !a.accepted).length,
      duplicates,
      losses,
      minGapMs,
      botCpuMs: status.cpuMs,
      botRssMiB: status.peakRssMiB,
      healthP50: pct(50),
      healthP99: pct(99),
      healthMax: sortedHealth[sortedHealth.length - 1] ?? Number.NaN,
      loadBefore,
      loadAfter: loadavg()[0] ?? 0,
    };
  } finally {
    if (bot) bot.kill();
    await fake.stop();
    tmp.cleanup();
  }
}

async function nudgeIds(path: string): Promise<number[]> {
  const store = await openStore(path);
  const ids = await nudgeIdsNotHeldOut(store.db);
  await store.close();
  return ids;
}

async function main(): Promise<void> {
  const channels = intArg(args.channels, 50, "channels");
  const perChannel = intArg(args["per-channel"], 100, "per-channel");
  const floorMs = (perChannel - 1) * SLACK_INTERVAL_MS;
  console.log(`deliver benchmark: ${fmtInt(channels * perChannel)} nudges to ${channels} channels (${perChannel} each), one message per second per channel`);
  console.log(machineLine());
  const baseline = await measure("baseline: no rate limit, bot pacing off", channels, perChannel, false);
  const limited = await measure("Slack's 1 message/s per channel, 429 + Retry-After", channels, perChannel, true);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (o: Outcome) => [
    o.label,
    fmtInt(o.nudges),
    s(o.spanMs),
    s(o.totalMs),
    `${(o.spanMs / floorMs).toFixed(3)} ×`,
    fmtInt(o.accepted),
    String(o.refused429),
    String(o.duplicates),
    String(o.losses),
    Number.isFinite(o.minGapMs) ? `${o.minGapMs} ms` : "",
    s(o.botCpuMs),
    `${o.healthP50.toFixed(1)} / ${o.healthP99.toFixed(1)} / ${o.healthMax.toFixed(1)} ms`,
  ];
  console.log("");
  console.log(
    table([
      [
        "phase",
        "nudges",
        "first→last post",
        "start→drained",
        "× floor",
        "posted",
        "429s",
        "dupes",
        "lost",
        "min gap/channel",
        "bot CPU",
        "/healthz p50/p99/max",
      ],
      row(baseline),
      row(limited),
    ]),
  );
  console.log("");
  console.log(`floor: ${perChannel} messages per channel at one per second = ${s(floorMs)} from the first post to the last`);
  console.log(
    `load average (1 min): ${baseline.loadBefore.toFixed(2)} → ${baseline.loadAfter.toFixed(2)} (baseline), ${limited.loadBefore.toFixed(2)} → ${limited.loadAfter.toFixed(2)} (rate-limited)`,
  );
  const met = limited.duplicates === 0 && limited.losses === 0 && limited.accepted === limited.nudges && limited.spanMs <= 1.15 * floorMs;
  console.log(`target all once, total ≤ 1.15 × floor: ${met ? "met" : "NOT met"}`);
}

if (args.phase === "bot") await botPhase();
else await main();
