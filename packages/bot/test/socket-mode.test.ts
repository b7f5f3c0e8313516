import { parseEnv } from "@keepwarm/core";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { FakeSlack, spawnCli, tempDir } from "@keepwarm/testkit";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type BotApp, createApp } from "../src/index";
import { NOW, REP, seedCustomers, TEAM } from "./harness";

/** Every wait in this file is bounded: a broken Socket Mode fails fast, never hangs. */
const WAIT_MS = 5000;

async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Slack's side of a Socket Mode connection on 127.0.0.1: greets each client with
 * `hello`, pushes envelopes and records what the client sends back (acks).
 */
class FakeSocketLink {
  readonly received: Array<Record<string, unknown>> = [];
  private readonly sockets: WebSocket[] = [];
  private waiters: Array<() => void> = [];
  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
  ) {
    server.on("connection", (socket) => {
      this.sockets.push(socket);
      socket.on("message", (data) => {
        this.received.push(JSON.parse(String(data)) as Record<string, unknown>);
        this.notify();
      });
      socket.send(JSON.stringify({ type: "hello", num_connections: 1, connection_info: { app_id: "A0KEEPWARM" }, debug_info: { host: "fake" } }));
      this.notify();
    });
  }

  static async start(): Promise<FakeSocketLink> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/link" });
    await within(new Promise<void>((resolve) => server.once("listening", () => resolve())), "the WebSocket server");
    return new FakeSocketLink(server, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link`);
  }

  get connections(): number {
    return this.sockets.length;
  }

  /** Push an envelope to the latest connected client. */
  push(envelope: Record<string, unknown>): void {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error("no Socket Mode client connected");
    socket.send(JSON.stringify(envelope));
  }

  async until<T>(probe: () => T | undefined, what: string): Promise<T> {
    return within(
      new Promise<T>((resolve) => {
        const check = () => {
          const value = probe();
          if (value === undefined) return false;
          resolve(value);
          return true;
        };
        if (check()) return;
        const waiter = () => {
          if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
        };
        this.waiters.push(waiter);
      }),
      what,
    );
  }

  ackOf(envelopeId: string): Promise<Record<string, unknown>> {
    return this.until(() => this.received.find((m) => m.envelope_id === envelopeId), `the ack of ${envelopeId}`);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await within(new Promise<void>((resolve) => this.server.close(() => resolve())), "the WebSocket server to close");
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

let envelopeCounter = 0;

/** A slash command as Slack delivers it over Socket Mode. */
function slashEnvelope(command: string, text: string, responseUrl: string, user = REP): { envelope_id: string } & Record<string, unknown> {
  const envelope_id = `env-${++envelopeCounter}`;
  return {
    envelope_id,
    type: "slash_commands",
    accepts_response_payload: true,
    payload: {
      token: "legacy-verification-token",
      team_id: TEAM,
      team_domain: "test",
      channel_id: "C0GENERAL",
      channel_name: "general",
      user_id: user,
      user_name: "rep",
      command,
      text,
      api_app_id: "A0KEEPWARM",
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: `trigger-${envelope_id}`,
    },
  };
}

const touchesOf = (store: Store) =>
  store.db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select(["c.external_id as customer", "t.kind", "t.source", "t.logged_by as loggedBy", "t.occurred_at as occurredAt"])
    .orderBy("t.id")
    .execute();

let fake: FakeSlack;
let link: FakeSocketLink;
let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  tmp = tempDir("keepwarm-socket-");
  link = await FakeSocketLink.start();
  fake = await new FakeSlack({ teamId: TEAM, socketUrl: link.url }).start();
});
afterEach(async () => {
  await link.close();
  await fake.stop();
  tmp.cleanup();
});

describe("Socket Mode", () => {
  it("connects through SLACK_API_URL with the app token, acks /touch over the socket, stores the touch and answers on the response_url", async () => {
    const location = await migratedDatabase(tmp, "socket.db");
    const store = await openStore(location);
    await seedCustomers(store, [{ id: "C-1", name: "Acme Corp" }]);
    const errors: string[] = [];
    const env = parseEnv({ KEEPWARM_DB: location, SLACK_BOT_TOKEN: "xoxb-test", SLACK_APP_TOKEN: "xapp-test", SLACK_API_URL: fake.apiUrl });
    let bot: BotApp | undefined;
    try {
      bot = createApp({
        store,
        env,
        clock: () => NOW,
        logger: { info: () => {}, warn: (m) => errors.push(m), error: (m) => errors.push(m) },
        deliveryLoop: false,
        host: "127.0.0.1",
      });
      expect(bot.mode).toBe("socket");
      const port = await within(bot.start(0), "the bot to connect");

      // The WebSocket URL came from the fake, asked with the app-level token, not the bot token:
      // once to check the token at start (a refused one stops the bot), once by the socket client.
      expect(fake.callsOf("apps.connections.open").map((c) => c.token)).toEqual(["xapp-test", "xapp-test"]);
      expect(link.connections).toBe(1);
      const health = await within(fetch(`http://127.0.0.1:${port}/healthz`), "/healthz");
      expect(health.status).toBe(200);
      expect(((await health.json()) as { ok: boolean }).ok).toBe(true);

      const envelope = slashEnvelope("/touch", "Acme Corp call today checked in", fake.responseUrl("socket-touch"));
      link.push(envelope);
      expect(await link.ackOf(envelope.envelope_id)).toEqual({ envelope_id: envelope.envelope_id, payload: {} });
      const answer = await fake.waitFor(() => fake.responses.find((r) => r.id === "socket-touch"), WAIT_MS);
      expect(answer.body).toMatchObject({ response_type: "ephemeral" });
      expect(String(answer.body.text)).toContain(":white_check_mark: Logged a call with *Acme Corp*");
      expect(await touchesOf(store)).toEqual([{ customer: "C-1", kind: "call", source: "slack", loggedBy: REP, occurredAt: expect.any(Number) }]);
      expect(Math.floor(((await touchesOf(store))[0]?.occurredAt ?? 0) / DAY_MS)).toBe(Math.floor(NOW / DAY_MS));

      // An answer carried by the ack itself travels back in the envelope's payload.
      const help = slashEnvelope("/touch", "help", fake.responseUrl("socket-help"));
      link.push(help);
      const helpAck = await link.ackOf(help.envelope_id);
      expect(helpAck.payload).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("/touch") });
      expect(await touchesOf(store)).toHaveLength(1);

      // Another workspace's command is acked with a polite no and changes nothing.
      const foreign = slashEnvelope("/touch", "Acme Corp email", fake.responseUrl("socket-foreign"));
      link.push({ ...foreign, payload: { ...(foreign.payload as Record<string, unknown>), team_id: "T0OTHER" } });
      expect((await link.ackOf(foreign.envelope_id)).payload).toMatchObject({ text: "keepwarm is not installed in this workspace." });
      expect(await touchesOf(store)).toHaveLength(1);
      expect(errors).toEqual([expect.stringContaining("ignored a request from team T0OTHER")]);
    } finally {
      await bot?.stop();
      await store.close();
    }
  });

  it("an envelope delivered twice (same envelope_id) is acked twice and logs once; a malformed envelope harms nothing", async () => {
    const store = await openStore(await migratedDatabase(tmp, "replay.db"));
    await seedCustomers(store, [{ id: "C-1", name: "Acme Corp" }]);
    const env = parseEnv({ KEEPWARM_DB: "unused", SLACK_BOT_TOKEN: "xoxb-test", SLACK_APP_TOKEN: "xapp-test", SLACK_API_URL: fake.apiUrl });
    const silent = { info: () => {}, warn: () => {}, error: () => {} };
    let bot: BotApp | undefined;
    try {
      bot = createApp({ store, env, clock: () => NOW, logger: silent, deliveryLoop: false, host: "127.0.0.1" });
      await within(bot.start(0), "the bot to connect");
      expect(bot.slackStatus()).toBe("ok");
      const envelope = slashEnvelope("/touch", "Acme Corp call today", fake.responseUrl("twice"));
      link.push(envelope);
      await link.ackOf(envelope.envelope_id);
      link.push(envelope);
      await link.until(() => (link.received.filter((m) => m.envelope_id === envelope.envelope_id).length === 2 ? true : undefined), "the second ack");
      // Malformed envelopes: no payload, a null payload, an array.
      for (const [i, payload] of [undefined, null, []].entries()) link.push({ envelope_id: `bad-${i}`, type: "interactive", payload });
      const next = slashEnvelope("/touch", "Acme Corp email today", fake.responseUrl("next"));
      link.push(next);
      // Both commands run concurrently (each acked first): wait for both answers.
      await fake.waitFor(() => fake.responses.find((r) => r.id === "next") && fake.responses.find((r) => r.id === "twice"), WAIT_MS);
      expect(fake.responses.filter((r) => r.id === "twice")).toHaveLength(1);
      // Either may be stored first.
      expect((await touchesOf(store)).map((t) => t.kind).sort()).toEqual(["call", "email"]);
    } finally {
      await bot?.stop();
      await store.close();
    }
  });

  it("keepwarm bot with SLACK_APP_TOKEN runs without SLACK_SIGNING_SECRET and serves /touch over the socket until SIGTERM", async () => {
    const db = await migratedDatabase(tmp, "cli.db");
    const store = await openStore(db);
    await seedCustomers(store, [{ id: "C-1", name: "Acme Corp" }], Date.now());
    await store.close();

    const child = spawnCli(["bot"], {
      KEEPWARM_DB: db,
      SLACK_BOT_TOKEN: "xoxb-test",
      SLACK_APP_TOKEN: "xapp-test",
      SLACK_SIGNING_SECRET: undefined,
      SLACK_API_URL: fake.apiUrl,
      PORT: "0",
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      // Starting the CLI under tsx is the slow part; the socket exchange itself is quick.
      await within(
        (async () => {
          while (!stderr.includes("connected in Socket Mode")) {
            if (child.exitCode !== null) throw new Error(`keepwarm bot exited: ${stderr}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        })(),
        "keepwarm bot to connect",
        20_000,
      );
      const envelope = slashEnvelope("/touch", "Acme Corp call today checked in", fake.responseUrl("cli-touch"));
      link.push(envelope);
      expect((await link.ackOf(envelope.envelope_id)).envelope_id).toBe(envelope.envelope_id);
      const answer = await fake.waitFor(() => fake.responses.find((r) => r.id === "cli-touch"), WAIT_MS);
      expect(String(answer.body.text)).toContain(":white_check_mark: Logged a call with *Acme Corp*");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await within(exited, "keepwarm bot to exit")).toBe(0);
    expect(stderr).not.toContain("SLACK_SIGNING_SECRET");
    expect(stderr).toContain("SIGTERM: stopping");
    const after = await openStore(db);
    const touches = await touchesOf(after);
    await after.close();
    expect(touches).toMatchObject([{ customer: "C-1", kind: "call", source: "slack", loggedBy: REP }]);
  }, 40_000);
});
