import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiHandler, createApiToken } from "@keepwarm/api";
import { claimNudge, type Clock, runSweep, WEBHOOK_MAX_ATTEMPTS, WebhookSender, webhookBackoffMs } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { DAY_MS, markEscalated, openStore, type Store, WEBHOOK_EVENT_TYPES } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runInProcess } from "./in-process";

const UTC = new Calendar("UTC");

/** A receiver as a customer would write it: its own few lines of crypto, as docs/api.md shows. */
function verifySignature(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=") as [string, string]));
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest("hex");
  return parts.v1 !== undefined && parts.v1.length === expected.length && timingSafeEqual(Buffer.from(parts.v1), Buffer.from(expected));
}

type Mode = "ok" | "500" | "reset" | "hang";
interface Received {
  eventId: string;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON came
  body: any;
  raw: string;
  signed: boolean;
  answered: number | null;
}

/** An independent receiver on 127.0.0.1: verifies each request, dedupes on the event id. */
class Receiver {
  mode: Mode = "ok";
  secret = "";
  requests: Received[] = [];
  /** Accepted events by id: a retry of one already accepted is counted once. */
  events = new Map<string, Received>();
  private hanging: ServerResponse[] = [];
  private server: Server = createServer((req, res) => void this.handle(req, res));
  url = "";

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const received: Received = {
      eventId: String(req.headers["keepwarm-event-id"]),
      type: String(req.headers["keepwarm-event-type"]),
      body: JSON.parse(raw),
      raw,
      signed: verifySignature(this.secret, String(req.headers["keepwarm-signature"] ?? ""), raw),
      answered: null,
    };
    this.requests.push(received);
    if (this.mode === "reset") {
      req.socket.destroy();
      return;
    }
    if (this.mode === "hang") {
      this.hanging.push(res);
      return;
    }
    if (this.mode === "500" || !received.signed) {
      received.answered = 500;
      res.writeHead(500).end("receiver is down for maintenance");
      return;
    }
    received.answered = 200;
    if (!this.events.has(received.eventId)) this.events.set(received.eventId, received);
    res.writeHead(200).end("ok");
  }

  hangingCount(): number {
    return this.hanging.length;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

class FakeClock implements Clock {
  constructor(public t: number) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

let tmp: ReturnType<typeof tempDir>;
let db: string;
let store: Store;
let receiver: Receiver;
let servers: Server[] = [];
beforeEach(async () => {
  tmp = tempDir("keepwarm-webhooks-");
  db = await freshDatabase(tmp);
  store = await openStore(db);
  receiver = await new Receiver().start();
  servers = [];
});
afterEach(async () => {
  await receiver.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await store.close();
  tmp.cleanup();
});

const cli = (args: string[]) => runInProcess(args, { KEEPWARM_DB: db, KEEPWARM_TZ: "UTC" });

async function addWebhook(events: string, url = receiver.url): Promise<{ id: number; secret: string }> {
  const added = await cli(["webhooks", "add", url, "--events", events, "--json"]);
  expect(added.code, added.stderr).toBe(0);
  const parsed = JSON.parse(added.stdout) as { id: number; secret: string };
  expect(parsed.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  return parsed;
}

async function serveApi(): Promise<{ base: string; token: string }> {
  const token = (await createApiToken(store, "hooks", ["ingest", "read", "act"])).secret;
  const server = createServer(createApiHandler({ store, calendar: UTC }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, token };
}

async function api(base: string, token: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const isoDaysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

async function drain(sender: WebhookSender, until: () => boolean, passes = 50): Promise<void> {
  for (let i = 0; i < passes && !until(); i++) {
    await sender.runOnce();
    if (!until()) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function countRows(table: "webhook_events" | "outbox"): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("webhooks: every event from its real path, signed", { timeout: 120_000 }, () => {
  it("each event type reaches an independent receiver that verifies the signature; a narrower webhook gets only its type", async () => {
    const all = await addWebhook(WEBHOOK_EVENT_TYPES.join(","));
    receiver.secret = all.secret;
    const narrow = new Receiver();
    await narrow.start();
    try {
      const only = await addWebhook("nudge.resolved", narrow.url);
      narrow.secret = only.secret;
      const { base, token } = await serveApi();
      const customers = [
        ...["C-1", "C-2", "C-3", "C-4"].map((id) => ({ id, name: `Quiet ${id}`, segment: "smb", owner_slack_id: "U0OWNER1", since: isoDaysAgo(400) })),
        { id: "C-5", name: "Unowned", segment: "smb", since: isoDaysAgo(400) },
        { id: "C-6", name: "Detractor", segment: "smb", owner_slack_id: "U0OWNER1", since: isoDaysAgo(400) },
      ];
      expect((await api(base, token, "/customers", { items: customers })).status).toBe(200);
      // C-6 was touched lately and answered 9 then 3: an NPS drop, no quiet nudge.
      expect((await api(base, token, "/touches", { items: [{ customer_id: "C-6", occurred_at: isoDaysAgo(2), kind: "call" }] })).status).toBe(200);
      const nps = [
        { customer_id: "C-6", responded_at: isoDaysAgo(40), score: 9 },
        { customer_id: "C-6", responded_at: isoDaysAgo(1), score: 3 },
      ];
      expect((await api(base, token, "/nps", { items: nps })).status).toBe(200);

      // The sweep plans the nudges; without Slack the CLI prints them (console delivery).
      const swept = await cli(["sweep"]);
      expect(swept.code, swept.stderr).toBe(0);
      const nudges = await store.db
        .selectFrom("nudges as n")
        .innerJoin("customers as c", "c.id", "n.customer_id")
        .select(["n.id", "c.external_id as customer"])
        .execute();
      const nudgeOf = (customer: string) => Number(nudges.find((n) => n.customer === customer)?.id);
      expect(nudges).toHaveLength(6);

      expect((await api(base, token, `/nudges/${nudgeOf("C-1")}/snooze`, { days: 7 })).status).toBe(200);
      expect((await api(base, token, `/nudges/${nudgeOf("C-2")}/dismiss`, { reason: "churning anyway" })).status).toBe(200);
      expect((await api(base, token, `/nudges/${nudgeOf("C-3")}/resolve`, { note: "called from the CRM" })).status).toBe(200);
      const touched = await cli(["touch", "C-4", "call", "today", "renewal", "is", "safe"]);
      expect(touched.code, touched.stderr).toBe(0);
      expect((await claimNudge(store, nudgeOf("C-5"), "U0TAKER1")).outcome).toBe("claimed");
      expect(await markEscalated(store.db, [nudgeOf("C-5")], Date.now())).toEqual([nudgeOf("C-5")]);
      // C-6 answers 10: the drop no longer holds and the next sweep expires its nudge.
      expect((await api(base, token, "/nps", { items: [{ customer_id: "C-6", responded_at: new Date().toISOString(), score: 10 }] })).status).toBe(200);
      expect((await cli(["sweep"])).code).toBe(0);

      const sender = new WebhookSender({ store });
      const types = () => new Set([...receiver.events.values()].map((e) => e.type));
      await drain(sender, () => types().size === WEBHOOK_EVENT_TYPES.length && narrow.events.size === 2);
      expect([...types()].sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
      expect(receiver.requests.every((r) => r.signed)).toBe(true);
      // Once each: every event the database holds for this webhook arrived exactly once.
      const stored = await store.db.selectFrom("outbox").select("webhook_event_id").where("webhook_id", "=", all.id).execute();
      expect(receiver.events.size).toBe(stored.length);
      expect(receiver.requests).toHaveLength(stored.length);

      const ofType = (type: string) => [...receiver.events.values()].filter((e) => e.type === type).map((e) => e.body);
      expect(ofType("nudge.created")).toHaveLength(6);
      expect(ofType("nudge.delivered")).toHaveLength(6);
      const snoozed = ofType("nudge.snoozed")[0];
      expect(snoozed).toMatchObject({
        type: "nudge.snoozed",
        data: { nudge: { id: nudgeOf("C-1"), status: "snoozed", customer: { id: "C-1", owner_slack_id: "U0OWNER1" } } },
      });
      expect(snoozed.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(Date.parse(snoozed.occurred_at)).toBeGreaterThan(Date.now() - 60_000);
      expect(ofType("nudge.dismissed")[0].data.nudge).toMatchObject({ status: "dismissed", close_note: "churning anyway" });
      const resolved = ofType("nudge.resolved").map((b) => b.data.nudge);
      expect(resolved.map((n) => [n.customer.id, n.close_reason]).sort()).toEqual([
        ["C-3", "manual"],
        ["C-4", "touch"],
      ]);
      expect(ofType("nudge.claimed")[0].data.nudge.customer).toMatchObject({ id: "C-5", owner_slack_id: "U0TAKER1" });
      expect(ofType("nudge.escalated")[0].data.nudge.id).toBe(nudgeOf("C-5"));
      expect(ofType("nudge.expired")[0].data.nudge).toMatchObject({ customer: { id: "C-6" }, status: "expired" });
      // touch.created from the API (written by the import path) and from the CLI.
      const touches = ofType("touch.created").map((b) => b.data.touch);
      expect(touches.map((t) => [t.customer.id, t.source]).sort()).toEqual([
        ["C-4", "cli"],
        ["C-6", "import"],
      ]);
      expect(touches.find((t) => t.source === "cli")).toMatchObject({ kind: "call", note: "renewal is safe" });
      // The narrow webhook got the two resolutions and nothing else.
      expect([...narrow.events.values()].map((e) => e.type)).toEqual(["nudge.resolved", "nudge.resolved"]);
      expect(narrow.requests.every((r) => r.signed)).toBe(true);
    } finally {
      await narrow.close();
    }
  });

  it("without a subscribed webhook a sweep and a touch write no event and no webhook item", async () => {
    await addWebhook("nudge.escalated");
    const { base, token } = await serveApi();
    const customers = Array.from({ length: 30 }, (_, i) => ({
      id: `Q-${i}`,
      name: `Quiet ${i}`,
      segment: "smb",
      owner_slack_id: "U0OWNER1",
      since: isoDaysAgo(400),
    }));
    expect((await api(base, token, "/customers", { items: customers })).status).toBe(200);
    await runSweep(store, { calendar: UTC });
    expect((await cli(["touch", "Q-1", "call", "today"])).code).toBe(0);
    expect(await countRows("webhook_events")).toBe(0);
    const webhookItems = await store.db.selectFrom("outbox").select("id").where("kind", "=", "webhook").execute();
    expect(webhookItems).toHaveLength(0);
  });
});

describe("webhooks: retries, outages and the log", { timeout: 120_000 }, () => {
  it("a receiver that is down is retried on the documented backoff until it is back; the log shows every attempt", async () => {
    const hook = await addWebhook("touch.created");
    receiver.secret = hook.secret;
    const { base, token } = await serveApi();
    expect((await api(base, token, "/customers", { items: [{ id: "C-1", name: "Acme" }] })).status).toBe(200);
    receiver.mode = "500";
    expect((await cli(["touch", "C-1", "call", "today"])).code).toBe(0);
    expect((await cli(["touch", "C-1", "email", "today"])).code).toBe(0);
    const t0 = Date.now();
    const clock = new FakeClock(t0);
    const sender = new WebhookSender({ store, clock });

    // First pass: the first event fails; the second waits with it (one request per step, not per event).
    await sender.runOnce();
    expect(receiver.requests).toHaveLength(1);
    const firstId = receiver.requests[0]?.eventId as string;
    // Not due again before the backoff has passed.
    clock.t = t0 + webhookBackoffMs(1) - 1000;
    await sender.runOnce();
    expect(receiver.requests).toHaveLength(1);
    clock.t = t0 + webhookBackoffMs(1);
    receiver.mode = "reset";
    await sender.runOnce();
    expect(receiver.requests).toHaveLength(2);
    clock.t += webhookBackoffMs(2);
    receiver.mode = "ok";
    await sender.runOnce();
    await sender.runOnce();
    expect(receiver.events.size).toBe(2);
    // The same event id (and body) in every attempt: the receiver kept it once.
    const firstTries = receiver.requests.filter((r) => r.eventId === firstId);
    expect(firstTries).toHaveLength(3);
    expect(new Set(firstTries.map((r) => r.raw)).size).toBe(1);
    expect(receiver.requests.every((r) => r.signed)).toBe(true);

    const log = await cli(["webhooks", "log", "--json"]);
    expect(log.code, log.stderr).toBe(0);
    const entries = JSON.parse(log.stdout) as Array<{
      eventId: string;
      status: string;
      attempts: number;
      tries: Array<{ attempt: number; at: string; httpStatus: number | null; error: string | null }>;
      deliveredAt: string | null;
    }>;
    const first = entries.find((e) => e.eventId === firstId);
    expect(first).toMatchObject({ status: "done", attempts: 3 });
    expect(first?.tries.map((t) => t.httpStatus)).toEqual([500, null, 200]);
    expect(first?.tries[0]?.error).toMatch(/^HTTP 500: receiver is down/);
    expect(first?.tries[1]?.error).toMatch(/ECONNRESET|socket hang up/);
    const at = (first?.tries ?? []).map((t) => Date.parse(t.at));
    expect(at[1] as number).toBe(t0 + webhookBackoffMs(1));
    expect((at[2] as number) - (at[1] as number)).toBe(webhookBackoffMs(2));
    const text = await cli(["webhooks", "log", "--webhook", String(hook.id)]);
    expect(text.stdout).toContain(firstId);
    expect(text.stdout).toMatch(/touch\.created +evt_\w+ +attempts 3 +HTTP 200 +delivered/);
  });

  it("after its last attempt a delivery is failed, listed by --failed, and sent again by webhooks retry", async () => {
    const hook = await addWebhook("touch.created");
    receiver.secret = hook.secret;
    await store.db
      .insertInto("customers")
      .values({ external_id: "C-1", name: "Acme", loyalty_member: 0, attributes: "{}", created_at: 0, updated_at: 0 })
      .execute();
    receiver.mode = "500";
    expect((await cli(["touch", "C-1", "call", "today"])).code).toBe(0);
    const clock = new FakeClock(Date.now());
    const sender = new WebhookSender({ store, clock });
    for (let attempt = 1; attempt <= WEBHOOK_MAX_ATTEMPTS; attempt++) {
      await sender.runOnce();
      clock.t += webhookBackoffMs(attempt);
    }
    expect(receiver.requests).toHaveLength(WEBHOOK_MAX_ATTEMPTS);
    await sender.runOnce();
    expect(receiver.requests).toHaveLength(WEBHOOK_MAX_ATTEMPTS);
    const failed = await cli(["webhooks", "log", "--failed", "--json"]);
    const [entry] = JSON.parse(failed.stdout) as Array<{ id: number; status: string; attempts: number; lastError: string }>;
    expect(entry).toMatchObject({ status: "failed", attempts: WEBHOOK_MAX_ATTEMPTS });
    const retried = await cli(["webhooks", "retry", String(entry?.id)]);
    expect(retried.code, retried.stderr).toBe(0);
    receiver.mode = "ok";
    await sender.runOnce();
    expect(receiver.events.size).toBe(1);
    expect(JSON.parse((await cli(["webhooks", "log", "--failed", "--json"])).stdout)).toEqual([]);
  });

  it("a hanging receiver times out after 5 s and holds nothing else up; webhooks test sends a ping", async () => {
    const hook = await addWebhook("touch.created");
    receiver.secret = hook.secret;
    receiver.mode = "hang";
    const tested = await cli(["webhooks", "test", String(hook.id)]);
    expect(tested.code, tested.stderr).toBe(0);
    const sender = new WebhookSender({ store });
    const started = Date.now();
    const pass = sender.runOnce();
    for (let i = 0; i < 200 && receiver.hangingCount() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(receiver.hangingCount()).toBe(1);
    // Meanwhile the database serves writes: a touch is recorded while the request hangs.
    await store.db
      .insertInto("customers")
      .values({ external_id: "C-1", name: "Acme", loyalty_member: 0, attributes: "{}", created_at: 0, updated_at: 0 })
      .execute();
    expect((await cli(["touch", "C-1", "call", "today"])).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(4500);
    const result = await pass;
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(result.retrying).toBe(1);
    const log = JSON.parse((await cli(["webhooks", "log", "--json"])).stdout) as Array<{ type: string; lastError: string | null; status: string }>;
    expect(log.find((e) => e.type === "webhook.ping")).toMatchObject({ status: "pending", lastError: "no answer within 5 s" });
    receiver.mode = "ok";
    expect(receiver.requests[0]?.body).toMatchObject({ type: "webhook.ping", data: { webhook_id: hook.id } });
  });
});

describe("keepwarm webhooks: bad input", { timeout: 60_000 }, () => {
  it.each([
    [["webhooks", "add", "not a url", "--events", "nudge.created"], /^keepwarm: error: "not a url" is not a URL/],
    [["webhooks", "add", "ftp://example.com/x", "--events", "nudge.created"], /^keepwarm: error: ftp URLs are not supported/],
    [["webhooks", "add", "https://user:pw@example.com/x", "--events", "nudge.created"], /user name or password/],
    [
      ["webhooks", "add", "https://example.com/x", "--events", "nudge.created,nudge.create"],
      /^keepwarm: error: unknown event "nudge.create": events are nudge\.created, /,
    ],
    [["webhooks", "add", "https://example.com/x", "--events", ","], /--events is empty/],
    [["webhooks", "remove", "7"], /^keepwarm: error: no webhook 7/],
    [["webhooks", "test", "x1"], /is not a webhook id/],
    [["webhooks", "retry", "99"], /^keepwarm: error: no webhook delivery 99/],
  ])("keepwarm %j fails with one line and writes nothing", async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
    const hooks = await store.db.selectFrom("webhooks").select("id").execute();
    expect(hooks).toEqual([]);
  });

  it("list never shows a secret; remove stops new deliveries and keeps the log", async () => {
    const hook = await addWebhook("touch.created");
    const listed = await cli(["webhooks", "list"]);
    expect(listed.stdout).toContain(receiver.url);
    expect(listed.stdout).not.toContain(hook.secret);
    expect((await cli(["webhooks", "test", String(hook.id)])).code).toBe(0);
    expect((await cli(["webhooks", "remove", String(hook.id)])).code).toBe(0);
    const log = JSON.parse((await cli(["webhooks", "log", "--json"])).stdout) as Array<{ status: string; lastError: string }>;
    expect(log).toMatchObject([{ status: "skipped", lastError: "webhook removed" }]);
    expect((await cli(["webhooks", "list"])).stdout).toMatch(/REMOVED/);
    const again = await cli(["webhooks", "remove", String(hook.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/was removed/);
  });
});
