import { type Env, parseEnv, runSweep } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { FakeSlack, interactionBody, postSigned, slashCommandBody, tempDir } from "@keepwarm/testkit";
import { type Clock, systemClock } from "@keepwarm/core";
import { type BotApp, createApp } from "../src/index";

export const SECRET = "test-signing-secret";
export const TEAM = "T0TEST";
export const REP = "U0REP";
export const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);

/** A clock for delivery that never really sleeps: sleeping advances it. */
export class FakeClock implements Clock {
  sleeps: number[] = [];
  constructor(public t = NOW) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.t += ms;
  };
  advance(ms: number) {
    this.t += ms;
  }
}

export interface Harness {
  store: Store;
  fake: FakeSlack;
  bot: BotApp;
  env: Env;
  clock: FakeClock;
  url: string;
  /** A file in the test's temporary folder (KEEPWARM_DB may be a URL, not a path to put files next to). */
  file(name: string, content?: string): string;
  close(): Promise<void>;
  command(command: string, text: string, user?: string, extra?: { team_id?: string }): Promise<{ status: number; json: unknown; responseId: string }>;
  interact(payload: Record<string, unknown>): Promise<{ status: number; json: unknown; text: string }>;
  /** The ephemeral answer posted to a response_url. */
  response(id: string): Promise<Record<string, unknown>>;
}

let responseCounter = 0;
/** Slack gives every click and submission its own trigger_id: two of them are never the same bytes. */
let triggerCounter = 0;

export interface CustomerSeed {
  id: string;
  name: string;
  owner?: string | null;
  segment?: string;
  /** Days since the customer started (no touches: quiet that long). */
  quietDays?: number;
}

export async function seedCustomers(store: Store, customers: CustomerSeed[], now = NOW): Promise<void> {
  if (customers.length === 0) return;
  await store.db
    .insertInto("customers")
    .values(
      customers.map((c) => ({
        external_id: c.id,
        name: c.name,
        segment: c.segment ?? "smb",
        lifecycle_stage: "adoption",
        owner_slack_id: c.owner === undefined ? REP : c.owner,
        tier: "gold",
        since_at: now - (c.quietDays ?? 45) * DAY_MS,
        renewal_at: null,
        loyalty_member: 0,
        churned_at: null,
        attributes: "{}",
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
}

/** The outbox, oldest item first: what delivery did with each item. */
export async function outboxRows(store: Store) {
  return store.db
    .selectFrom("outbox")
    .select(["kind", "status", "attempts", "last_error as lastError", "next_attempt_at as nextAttemptAt"])
    .orderBy("id")
    .execute();
}

export async function countRows(store: Store, table: "customers" | "touchpoints" | "rule_sets" | "nudges" | "outbox"): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function sweep(store: Store, now = NOW) {
  return runSweep(store, { calendar: new Calendar("UTC"), now });
}

export async function startHarness(
  options: {
    env?: Record<string, string>;
    customers?: CustomerSeed[];
    teamId?: string;
    clockNow?: () => number;
    /** Run the background loops (delivery, real-time evaluation) on the real clock, as a deployed bot does; off, tests drive delivery. */
    loops?: boolean;
  } = {},
): Promise<Harness> {
  const tmp = tempDir("keepwarm-bot-");
  const clock = new FakeClock();
  // Slack's message timestamps follow delivery's clock, so look-ups by time window line up.
  const fake = await new FakeSlack({ teamId: options.teamId ?? TEAM, now: () => clock.now() }).start();
  const location = await migratedDatabase(tmp, "bot.db");
  const store = await openStore(location);
  // A running bot's connection pool is warm. A cold one (PostgreSQL) makes the first
  // concurrent queries wait for new connections, which skews timing tests.
  await Promise.all(Array.from({ length: 4 }, () => store.db.selectFrom("customers").select("id").limit(1).execute()));
  if (options.customers) await seedCustomers(store, options.customers);
  const env = parseEnv({
    KEEPWARM_DB: location,
    SLACK_BOT_TOKEN: "xoxb-test",
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    KEEPWARM_ADMINS: "U0ADMIN",
    ...options.env,
  });
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const bot = createApp({
    store,
    env,
    clock: options.clockNow ?? (() => NOW),
    deliveryClock: options.loops ? systemClock : clock,
    logger: silent,
    deliveryLoop: options.loops ?? false,
    webhookLoop: false,
    host: "127.0.0.1",
  });
  const port = await bot.start(0);
  const url = `http://127.0.0.1:${port}`;
  return {
    store,
    fake,
    bot,
    env,
    clock,
    url,
    file: (name, content) => tmp.file(name, content),
    async close() {
      await bot.stop();
      await fake.stop();
      await store.close();
      tmp.cleanup();
    },
    async command(command, text, user = REP, extra = {}) {
      const responseId = `r${++responseCounter}`;
      const body = slashCommandBody({
        command,
        text,
        user_id: user,
        response_url: fake.responseUrl(responseId),
        ...(extra.team_id ? { team_id: extra.team_id } : {}),
      });
      const result = await postSigned(`${url}/slack/events`, body, { secret: SECRET });
      return { status: result.status, json: result.json, responseId };
    },
    async interact(payload) {
      return postSigned(`${url}/slack/events`, interactionBody(payload), { secret: SECRET });
    },
    async response(id) {
      const found = await fake.waitFor(() => fake.responses.find((r) => r.id === id));
      return found.body;
    },
  };
}

/** A click on a message button, as Slack sends it. */
export function blockAction(
  action: Record<string, unknown>,
  options: { user?: string; team?: string; responseUrl?: string; home?: boolean } = {},
): Record<string, unknown> {
  return {
    type: "block_actions",
    team: { id: options.team ?? TEAM, domain: "test" },
    user: { id: options.user ?? REP, team_id: options.team ?? TEAM },
    api_app_id: "A0KEEPWARM",
    trigger_id: `trigger-action-${++triggerCounter}`,
    ...(options.home
      ? { container: { type: "view", view_id: "VHOME" }, view: { id: "VHOME", type: "home", team_id: options.team ?? TEAM } }
      : { container: { type: "message", channel_id: "DREP", message_ts: "1.1" }, channel: { id: "DREP" }, response_url: options.responseUrl }),
    actions: [{ block_id: "b", action_ts: "1.2", ...action }],
  };
}

export function viewSubmission(callbackId: string, values: Record<string, unknown>, privateMetadata: string, user = REP): Record<string, unknown> {
  return {
    type: "view_submission",
    team: { id: TEAM, domain: "test" },
    user: { id: user, team_id: TEAM },
    api_app_id: "A0KEEPWARM",
    trigger_id: `trigger-view-${++triggerCounter}`,
    view: { id: "V1", team_id: TEAM, type: "modal", callback_id: callbackId, private_metadata: privateMetadata, state: { values }, hash: "h" },
  };
}

/** Poll an async condition (a database read) until it holds. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("waitUntil: timed out");
    await new Promise((r) => setTimeout(r, 15));
  }
}
