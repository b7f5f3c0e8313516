import type { ChildProcess } from "node:child_process";
import { defaultRulesText } from "@keepwarm/rules";
import { openStore, type Store } from "@keepwarm/store";
import { freshDatabase, TEST_ENGINE } from "@keepwarm/store/testing";
import { FakeSlack, type RecordedCall, runCli, spawnCli, tempDir } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Issue 10's "Done when": two `keepwarm bot` and two `keepwarm worker` processes on one
 * PostgreSQL database, one of each killed with SIGKILL mid-work, and still every nudge
 * reaches Slack exactly once and every sweep is recorded once.
 *
 * The story, on a book of 12,000 customers (3 sweep chunks) and 100 reps:
 * 1. `keepwarm sweep --json` plans 200 "no-contact" nudges (2 per rep) and leaves them
 *    to the bots. One bot claims them and posts; it is killed while posts are in flight
 *    (the fake Slack answers 250 ms late), so Slack has messages the database never
 *    recorded, and its claims hold for KEEPWARM_DELIVERY_CLAIM_SECONDS (30 s here).
 * 2. An admin turns on the "nps-drop" rule, which matches 120 customers spread over
 *    every chunk (their survey was imported at the start, when the rule was off, so the
 *    bots' real-time evaluation planned nothing for them: only a sweep can). Two workers
 *    start with --run-now. The one that takes the sweep lease is killed once its first
 *    chunk has committed: its run is left `running`, its nudges' deliveries `held`.
 * 3. The other worker takes the lease over when it runs out, marks the run `abandoned`,
 *    releases what it held, and sweeps; the survivors deliver. After the dead bot's
 *    claims run out, its items are taken over and first looked for in the conversation.
 */

const PG = TEST_ENGINE === "postgres";
const CUSTOMERS = 12_000;
const REPS = Array.from({ length: 100 }, (_, i) => `U0REP${String(i).padStart(3, "0")}`);
/** Every 60th customer has been quiet since long ago: no-contact fires (2 per rep). */
const QUIET_EVERY = 60;
/** Every 100th (offset 7) has an NPS drop in the survey imported later: nps-drop fires. */
const NPS_EVERY = 100;
const NPS_OFFSET = 7;
const DAY_MS = 86_400_000;
const QUIET = CUSTOMERS / QUIET_EVERY;
const NPS_DROPS = CUSTOMERS / NPS_EVERY;
const BOT_KILL_AFTER_POSTS = 60;
/** The shortest claim an operator may set (KEEPWARM_DELIVERY_CLAIM_SECONDS): the dead bot's items wait this long. */
const CLAIM_SECONDS = 30;
/** Past the dead bot's claim plus a lease takeover and a delivery pass, with margin. */
const SETTLE_MS = CLAIM_SECONDS * 1000 + 40_000;
/** Imports, a sweep, process start-up: generous, for a loaded 2-core machine. */
const SETUP_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

interface Proc {
  name: string;
  token: string;
  child: ChildProcess;
  stderr: string;
  exited: Promise<void>;
  done: boolean;
}

let tmp: ReturnType<typeof tempDir> | undefined;
let fake: FakeSlack | undefined;
let store: Store | undefined;
let procs: Proc[] = [];

afterEach(async () => {
  await stopAll(procs);
  procs = [];
  await store?.close().catch(() => {});
  store = undefined;
  await fake?.stop();
  fake = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

function start(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawnCli(args, env);
  const proc: Proc = { name, token: env.SLACK_BOT_TOKEN ?? "", child, stderr: "", exited: Promise.resolve(), done: false };
  child.stdout?.resume();
  child.stderr?.on("data", (chunk: Buffer) => {
    proc.stderr += chunk.toString();
  });
  proc.exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      proc.done = true;
      resolve();
    }),
  );
  procs.push(proc);
  return proc;
}

/** SIGTERM, then SIGKILL what is still running after 15 s. */
async function stopAll(list: Proc[]): Promise<void> {
  const live = list.filter((p) => !p.done);
  for (const p of live) p.child.kill("SIGTERM");
  const all = Promise.all(live.map((p) => p.exited));
  if ((await Promise.race([all.then(() => true), sleep(15_000).then(() => false)])) === false) {
    for (const p of live) if (!p.done) p.child.kill("SIGKILL");
    await Promise.race([all, sleep(5_000)]);
  }
}

async function kill(proc: Proc): Promise<void> {
  proc.child.kill("SIGKILL");
  await Promise.race([proc.exited, sleep(5_000)]);
  expect(proc.done, `${proc.name} did not die`).toBe(true);
}

/** Poll `probe` every `everyMs` until it returns a value, or fail naming `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${procs.map((p) => `--- ${p.name}\n${p.stderr.slice(-3000)}`).join("\n")}`);
    await sleep(everyMs);
  }
}

/** The nudge ids a chat.postMessage carried in its metadata (one, or a digest's list). */
function nudgeIdsOf(call: { args: Record<string, unknown> }): number[] {
  const metadata = call.args.metadata as { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
  if (metadata?.event_type !== "keepwarm_nudge") return [];
  const payload = metadata.event_payload ?? {};
  return typeof payload.nudge_ids === "string" ? payload.nudge_ids.split(",").map(Number) : [Number(payload.nudge_id)];
}

/** The quiet customers, and the NPS drops, each spread evenly over the reps: DMs to 100 channels. */
function ownerOf(i: number): string {
  const n = i % QUIET_EVERY === 0 ? i / QUIET_EVERY : (i - NPS_OFFSET) % NPS_EVERY === 0 ? (i - NPS_OFFSET) / NPS_EVERY : i;
  return REPS[n % REPS.length] as string;
}

function customersCsv(now: number): string {
  const lines = ["id,name,segment,owner_slack_id,since"];
  const longAgo = isoDay(now - 300 * DAY_MS);
  for (let i = 0; i < CUSTOMERS; i++) {
    const quiet = i % QUIET_EVERY === 0;
    // The rest were onboarded today: no rule fires for them until the NPS survey.
    lines.push(`C-${i},Customer ${i},smb,${ownerOf(i)},${quiet ? longAgo : isoDay(now)}`);
  }
  return `${lines.join("\n")}\n`;
}

function npsCsv(now: number): string {
  const lines = ["customer_id,responded_at,score"];
  for (let i = NPS_OFFSET; i < CUSTOMERS; i += NPS_EVERY) {
    lines.push(`C-${i},${isoDay(now - 20 * DAY_MS)},9`);
    lines.push(`C-${i},${isoDay(now - 2 * DAY_MS)},3`);
  }
  return `${lines.join("\n")}\n`;
}

describe.skipIf(!PG)("replicas as real processes (needs PostgreSQL: run with KEEPWARM_TEST_ENGINE=postgres)", () => {
  it("two bots and two workers on one database, one of each SIGKILLed mid-work: every nudge posted once, every sweep recorded once", {
    timeout: 240_000,
  }, async () => {
    tmp = tempDir("keepwarm-replicas-proc-");
    const db = await freshDatabase(tmp);
    // A Marketplace app's history allowance: the killed bot leaves an unknown outcome in
    // each of its lanes, and at the 2025 default (one look-up a minute) settling them
    // takes minutes; the delivery-faults suite covers that default.
    fake = await new FakeSlack({ postDelayMs: 250, historyPerMinute: 100 }).start();
    const now = Date.now();
    const base = {
      KEEPWARM_DB: db,
      KEEPWARM_TZ: "UTC",
      // Every nudge its own message, none held back by the daily budget: one post per nudge id.
      KEEPWARM_DIGEST_THRESHOLD: "1000",
      KEEPWARM_MAX_NUDGES_PER_DAY: "1000",
      SLACK_API_URL: fake.apiUrl,
      KEEPWARM_SLACK_HISTORY_PER_MINUTE: "100",
      KEEPWARM_DELIVERY_CLAIM_SECONDS: String(CLAIM_SECONDS),
      // The workspace pace (4 messages a second by default) would stretch 320 posts past the
      // settle time; workspace-pace.test.ts proves the pace itself.
      KEEPWARM_SLACK_MESSAGES_PER_SECOND: "1000",
    };

    const imported = await runCli(["import", "customers", tmp.file("customers.csv", customersCsv(now))], base, { timeoutMs: SETUP_MS });
    expect(imported.code, imported.stderr).toBe(0);
    // The default rules without nps-drop, then the NPS survey: its drops match no active rule yet.
    const defaults = JSON.parse(defaultRulesText()) as { rules: Array<{ id: string }> };
    const withoutNps = { ...defaults, rules: defaults.rules.filter((rule) => rule.id !== "nps-drop") };
    const rulesOff = await runCli(["rules", "apply", tmp.file("rules-v1.json", JSON.stringify(withoutNps)), "--author", "admin"], base, {
      timeoutMs: SETUP_MS,
    });
    expect(rulesOff.code, rulesOff.stderr).toBe(0);
    const npsImport = await runCli(["import", "nps", tmp.file("nps.csv", npsCsv(now))], base, { timeoutMs: SETUP_MS });
    expect(npsImport.code, npsImport.stderr).toBe(0);
    store = await openStore(db);
    const s = store;

    // Two bots in HTTP mode on free ports; each its own token, so the fake Slack tells their calls apart.
    const bots = ["a", "b"].map((id) =>
      start(`bot-${id}`, ["bot"], { ...base, SLACK_BOT_TOKEN: `xoxb-bot-${id}`, SLACK_SIGNING_SECRET: "replicas-secret", PORT: "0" }),
    );
    await until("both bots to listen", () => (bots.every((b) => b.stderr.includes("listening on port")) ? true : undefined), SETUP_MS);

    // 1. A sweep from the shell plans the quiet customers' nudges and leaves them to the bots.
    const swept = await runCli(["sweep", "--json"], base, { timeoutMs: SETUP_MS });
    expect(swept.code, swept.stderr).toBe(0);
    expect((JSON.parse(swept.stdout) as { nudges: unknown[] }).nudges).toHaveLength(QUIET);

    const postsBy = (token: string) => fake?.callsOf("chat.postMessage").filter((c) => c.token === token) ?? [];
    // Killed right as its post number BOT_KILL_AFTER_POSTS arrives: Slack answers 250 ms late, so that one (at least) is in flight.
    const victimBot = await until("a bot to post", () => bots.find((b) => postsBy(b.token).length >= BOT_KILL_AFTER_POSTS), 30_000, 5);
    await kill(victimBot);
    const botKilledAt = Date.now();
    const postedByVictim = postsBy(victimBot.token).flatMap(nudgeIdsOf);
    expect(postedByVictim.length).toBeLessThan(QUIET);
    // Posted in Slack, never recorded in the database: only a look at the conversation can tell.
    const unrecorded = await s.db.selectFrom("nudges").select("id").where("id", "in", postedByVictim).where("delivered_at", "is", null).execute();
    expect(unrecorded.length).toBeGreaterThan(0);

    // 2. The admin turns nps-drop on; two workers start, and the one sweeping is killed mid-sweep.
    const rulesOn = await runCli(["rules", "apply", tmp.file("rules-v2.json", defaultRulesText()), "--author", "admin"], base, { timeoutMs: SETUP_MS });
    expect(rulesOn.code, rulesOn.stderr).toBe(0);
    const workers = ["a", "b"].map((id) =>
      start(`worker-${id}`, ["worker", "--run-now"], { ...base, SLACK_BOT_TOKEN: `xoxb-worker-${id}`, KEEPWARM_SCHEDULE: "*/3 * * * * *" }),
    );
    const firstChunk = await until(
      "a worker's sweep to commit its first chunk",
      async () => {
        const run = await s.db.selectFrom("sweep_runs").select(["id", "pid", "status"]).where("status", "=", "running").executeTakeFirst();
        if (run === undefined) return undefined;
        const planned = await s.db
          .selectFrom("nudges")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("sweep_run_id", "=", run.id)
          .executeTakeFirstOrThrow();
        return Number(planned.n) > 0 ? run : undefined;
      },
      SETUP_MS,
      20,
    );
    const victimWorker = workers.find((w) => w.child.pid === firstChunk.pid);
    expect(victimWorker, `run #${firstChunk.id} pid ${firstChunk.pid} is not a worker's`).toBeDefined();
    if (victimWorker === undefined) return;
    await kill(victimWorker);
    const survivor = workers.find((w) => w !== victimWorker) as Proc;
    const killedRun = await s.db.selectFrom("sweep_runs").select(["status"]).where("id", "=", firstChunk.id).executeTakeFirstOrThrow();
    expect(killedRun.status, "the worker was killed after its sweep ended: make the sweep longer").toBe("running");
    const held = await s.db
      .selectFrom("outbox as o")
      .innerJoin("nudges as n", "n.id", "o.nudge_id")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("n.sweep_run_id", "=", firstChunk.id)
      .where("o.status", "=", "held")
      .executeTakeFirstOrThrow();
    expect(Number(held.n)).toBeGreaterThan(0);

    // 3. The survivors take over: wait until every live nudge is in Slack and nothing is left to do.
    await until(
      "every nudge delivered and the outbox drained",
      async () => {
        const live = await s.db
          .selectFrom("nudges")
          .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.count<number>("delivered_at").as("delivered")])
          .where("status", "in", ["open", "snoozed"])
          .where("held_out", "=", 0)
          .executeTakeFirstOrThrow();
        const waiting = await s.db
          .selectFrom("outbox")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where((eb) => eb.or([eb("status", "in", ["pending", "held"]), eb("claimed_by", "is not", null)]))
          .executeTakeFirstOrThrow();
        return Number(live.n) === QUIET + NPS_DROPS && Number(live.delivered) === Number(live.n) && Number(waiting.n) === 0 ? true : undefined;
      },
      SETTLE_MS - (Date.now() - botKilledAt),
      500,
    );
    const settledAfterMs = Date.now() - botKilledAt;
    await stopAll(procs);
    for (const p of procs.filter((p) => p !== victimBot && p !== victimWorker)) expect(p.stderr, p.name).not.toContain("    at ");

    // Every live nudge was posted exactly once (by metadata), and nothing else was.
    const nudges = await s.db
      .selectFrom("nudges")
      .select(["id", "rule_id", "customer_id", "status", "held_out", "delivered_at", "slack_ts", "sweep_run_id"])
      .execute();
    const live = nudges.filter((n) => (n.status === "open" || n.status === "snoozed") && n.held_out === 0);
    expect(live).toHaveLength(nudges.length);
    const posts: RecordedCall[] = fake.callsOf("chat.postMessage");
    const timesPosted = new Map<number, number>();
    for (const call of posts) for (const id of nudgeIdsOf(call)) timesPosted.set(id, (timesPosted.get(id) ?? 0) + 1);
    const missing = live.filter((n) => !timesPosted.has(n.id)).map((n) => n.id);
    const twice = [...timesPosted].filter(([, count]) => count > 1).map(([id]) => id);
    const unknown = [...timesPosted.keys()].filter((id) => !live.some((n) => n.id === id));
    expect({ missing, twice, unknown }).toEqual({ missing: [], twice: [], unknown: [] });
    expect(posts).toHaveLength(live.length);
    // …and the database points at that one message.
    const tsOf = new Map(fake.allMessages().flatMap((m) => nudgeIdsOf({ args: { metadata: m.metadata } }).map((id) => [id, m.ts] as const)));
    expect(live.filter((n) => n.slack_ts !== tsOf.get(n.id)).map((n) => n.id)).toEqual([]);
    // The posts the dead bot never heard back about were recognised in the conversation, not re-posted.
    expect(fake.callsOf("conversations.history").filter((c) => c.token !== victimBot.token).length).toBeGreaterThan(0);
    // One live nudge per (rule, customer): 200 quiet customers and 120 NPS drops, no more.
    const pairs = new Set(live.map((n) => `${n.rule_id}:${n.customer_id}`));
    expect(pairs.size).toBe(live.length);
    expect(live.filter((n) => n.rule_id === "no-contact")).toHaveLength(QUIET);
    expect(live.filter((n) => n.rule_id === "nps-drop")).toHaveLength(NPS_DROPS);
    // The killed sweep's first chunk planned some of them; the sweep that took over planned the rest.
    expect(live.filter((n) => n.sweep_run_id === firstChunk.id).length).toBeGreaterThan(0);

    // Sweeps: one at a time, the killed one abandoned, every other one ok and reported by its process.
    const runs = await s.db.selectFrom("sweep_runs").select(["id", "status", "pid", "started_at", "finished_at"]).orderBy("started_at").execute();
    for (const [i, run] of runs.entries()) {
      expect(run.finished_at, `run #${run.id} never finished`).not.toBeNull();
      const next = runs[i + 1];
      if (next !== undefined) expect(Number(run.finished_at), `runs #${run.id} and #${next.id} overlap`).toBeLessThanOrEqual(Number(next.started_at));
    }
    expect(runs.filter((r) => r.status !== "ok").map((r) => ({ id: r.id, status: r.status }))).toEqual([{ id: firstChunk.id, status: "abandoned" }]);
    const reported = (p: Proc) => [...p.stderr.matchAll(/\[worker\] sweep #(\d+): /g)].map((m) => Number(m[1]));
    expect(reported(survivor).length).toBeGreaterThan(0);
    expect(reported(survivor)).toEqual(runs.filter((r) => r.pid === survivor.child.pid).map((r) => r.id));
    expect(reported(victimWorker)).toEqual([]);
    // The shell's sweep, the killed one, and the survivor's.
    expect(runs).toHaveLength(1 + 1 + reported(survivor).length);
    expect(survivor.stderr).not.toContain("sweep failed");

    console.log(
      `replicas: ${live.length} nudges posted once each; bot killed after ${postedByVictim.length} posts (${unrecorded.length} in flight); ` +
        `worker killed in run #${firstChunk.id} with ${held.n} deliveries held; ${runs.length} sweep runs; settled ${settledAfterMs} ms after the bot's death`,
    );
  });
});
