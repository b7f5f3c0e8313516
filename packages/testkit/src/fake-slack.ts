import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Wall-clock ms when the call arrived. */
  at: number;
  /** The bearer token of the Authorization header, when one was sent. */
  token?: string | undefined;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> } | undefined;
}

/**
 * How the next call of a method fails: 429 + Retry-After, a 5xx, a Slack error answer,
 * or `lost`: Slack does the work (a post is kept) and the answer is a 503, as when
 * Slack's edge times out after the message was stored; `hang`: the work is done and
 * no answer ever comes (until unhang() or stop()).
 */
type Failure = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { error: string } | { lost: true } | { hang: true };

/** Channels the fake Slack knows by name (conversations.list, posts by name): name → id. */
export const FAKE_CHANNELS: Readonly<Record<string, string>> = {
  general: "C0GENERAL",
  cs: "C0CS",
  "cs-team": "C0CSTEAM",
  "cs-fallback": "C0CSFALLBACK",
  "cs-leads": "C0CSLEADS",
  "vip-desk": "C0VIPDESK",
  vip: "C0VIP",
};

export interface FakeSlackOptions {
  teamId?: string;
  botUserId?: string;
  /**
   * Enforce Slack's "one message per second per channel" on chat.postMessage: a post
   * sooner than this many ms after the channel's last accepted one gets 429 with
   * Retry-After (whole seconds, rounded up). Off by default.
   */
  channelIntervalMs?: number;
  /**
   * Socket Mode: apps.connections.open called with an app-level token (xapp-…) answers
   * this WebSocket URL; any other token gets `not_allowed_token_type`, as Slack does.
   */
  socketUrl?: string;
  /**
   * Answer each accepted chat.postMessage this many ms late. The message is kept (and
   * shows in conversations.history) when the call arrives, as Slack's would be: a
   * process killed during the delay posted a message it never heard back about.
   */
  postDelayMs?: number;
  /** Tokens Slack refuses: auth.test and apps.connections.open answer `invalid_auth` (as does any other method). */
  refusedTokens?: string[];
  /** The fake's time (message ts, the history allowance); tests with a fake delivery clock pass theirs. Default Date.now. */
  now?: () => number;
  /**
   * Slack's 2025 conversations.history limits for apps outside the Marketplace: this many
   * calls per minute (default 1; sooner: 429, Retry-After), and at most 15 messages per answer.
   */
  historyPerMinute?: number;
  /** Channels known by name (default FAKE_CHANNELS); a post to an unknown name gets channel_not_found. */
  channels?: Record<string, string>;
  /** Page size of conversations.list answers (default: the caller's limit). */
  listPageSize?: number;
  /** Awaited when a call arrives, before it is answered (tests move their clock: a slow Slack). */
  onCall?: (call: RecordedCall) => Promise<void> | void;
}

/** A chat.postMessage the channel rate limit accepted or refused (with channelIntervalMs). */
export interface PostAttempt {
  channel: string;
  at: number;
  accepted: boolean;
}

/**
 * A small stand-in for the Slack Web API on 127.0.0.1: records every call, keeps
 * posted messages per channel (with metadata, for conversations.history), and can
 * fail the next calls of a method with 429 + Retry-After, a 5xx, or a Slack error.
 * Also receives response_url posts at /response/<id>.
 */
export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly responses: Array<{ id: string; body: Record<string, unknown> }> = [];
  readonly messages = new Map<string, FakeMessage[]>();
  /** Channel id → its members, for conversations.members (settable any time; an unknown id is channel_not_found). */
  readonly channelMembers = new Map<string, string[]>();
  /** Workspace members, for users.lookupByEmail and users.info. */
  readonly users: Array<{ id: string; email: string; realName: string /** IANA zone users.info reports (`tz`). */; tz?: string }> = [];
  private failures = new Map<string, Failure[]>();
  private server: Server | undefined;
  private tsCounter = 0;
  private readonly teamId: string;
  private readonly botUserId: string;
  private readonly channelIntervalMs: number | undefined;
  private readonly postDelayMs: number;
  /** Settable after start, when the WebSocket server's port is only known then. */
  socketUrl: string | undefined;
  private lastAccepted = new Map<string, number>();
  /** Every chat.postMessage judged by the channel rate limit, in arrival order. */
  readonly postAttempts: PostAttempt[] = [];
  /** Tokens answered `invalid_auth` (settable any time). */
  readonly refusedTokens: Set<string>;
  /** Methods ("*": all) whose calls are never answered, as a hung Slack: held until unhang() or stop(). */
  private readonly hung = new Set<string>();
  private held: Array<() => void> = [];
  private readonly now: () => number;
  private readonly historyIntervalMs: number;
  private lastHistoryAt: number | undefined;
  readonly channels: Map<string, string>;
  private readonly listPageSize: number | undefined;
  /** Settable any time: see FakeSlackOptions.onCall. */
  onCall: FakeSlackOptions["onCall"];
  url = "";

  constructor(options: FakeSlackOptions = {}) {
    this.teamId = options.teamId ?? "T0TEST";
    this.botUserId = options.botUserId ?? "U0BOT";
    this.channelIntervalMs = options.channelIntervalMs;
    this.postDelayMs = options.postDelayMs ?? 0;
    this.socketUrl = options.socketUrl;
    this.refusedTokens = new Set(options.refusedTokens ?? []);
    this.now = options.now ?? Date.now;
    this.historyIntervalMs = 60_000 / (options.historyPerMinute ?? 1);
    this.channels = new Map(Object.entries(options.channels ?? FAKE_CHANNELS));
    this.listPageSize = options.listPageSize;
    this.onCall = options.onCall;
  }

  /** The id of a channel known by name (or the argument itself, an id already). */
  channelId(nameOrId: string): string {
    return this.channels.get(nameOrId.replace(/^#/, "")) ?? nameOrId;
  }

  /** Messages of a channel, by name or id. */
  messagesIn(nameOrId: string): FakeMessage[] | undefined {
    return this.messages.get(this.channelId(nameOrId));
  }

  /** From now on, calls of `method` (default: every method) get no answer until unhang() or stop(). */
  hang(method = "*"): void {
    this.hung.add(method);
  }

  /** Answer again, including the calls held so far. */
  unhang(): void {
    this.hung.clear();
    const held = this.held;
    this.held = [];
    for (const release of held) release();
  }

  /** The Web API base URL (for SLACK_API_URL / slackApiUrl). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  responseUrl(id: string): string {
    return `${this.url}/response/${id}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body, headers }) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        },
        (error: Error) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false, error: error.message }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.held = [];
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  /** The next `count` calls of `method` fail this way. */
  failNext(method: string, count: number, failure: Failure): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.failures.set(method, list);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Every message posted to a channel (DMs are stored under D<user id>). */
  allMessages(): FakeMessage[] {
    return [...this.messages.values()].flat();
  }

  /** Wait until the predicate holds (polling), or fail after timeoutMs. */
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error("FakeSlack.waitFor: timed out");
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  private nextTs(): string {
    this.tsCounter++;
    // Unique and increasing: whole seconds of the fake's clock, the counter as microseconds.
    return `${Math.floor(this.now() / 1000)}.${String(this.tsCounter % 1_000_000).padStart(6, "0")}`;
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path.startsWith("/response/")) {
      this.responses.push({ id: path.slice("/response/".length), body: JSON.parse(raw || "{}") as Record<string, unknown> });
      return { status: 200, body: { ok: true } };
    }
    if (!path.startsWith("/api/")) return { status: 404, body: { ok: false, error: "unknown_path" } };
    const method = path.slice("/api/".length);
    const args = parseArgs(raw, req.headers["content-type"] ?? "");
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const call: RecordedCall = { method, args, at: Date.now(), token };
    this.calls.push(call);
    if (this.hung.has("*") || this.hung.has(method)) await new Promise<void>((release) => this.held.push(release));
    await this.onCall?.(call);
    if (token !== undefined && this.refusedTokens.has(token)) return { status: 200, body: { ok: false, error: "invalid_auth" } };
    const failure = this.failures.get(method)?.shift();
    if (failure !== undefined) {
      if ("error" in failure) return { status: 200, body: { ok: false, error: failure.error } };
      if ("lost" in failure) {
        this.answer(method, args);
        return { status: 503, body: { ok: false, error: "service_unavailable" } };
      }
      if ("hang" in failure) {
        const body = this.answer(method, args);
        await new Promise<void>((release) => this.held.push(release));
        return { status: 200, body };
      }
      if (failure.status === 429) return { status: 429, body: { ok: false, error: "ratelimited" }, headers: { "retry-after": String(failure.retryAfter) } };
      return { status: failure.status, body: { ok: false, error: "internal_error" } };
    }
    if (method === "chat.postMessage" && this.channelIntervalMs !== undefined) {
      const limited = this.channelLimit(args);
      if (limited !== undefined) return limited;
    }
    if (method === "apps.connections.open") return { status: 200, body: this.connectionsOpen(token) };
    if (method === "conversations.history") {
      const now = this.now();
      if (this.lastHistoryAt !== undefined && now - this.lastHistoryAt < this.historyIntervalMs) {
        const retryAfter = Math.max(1, Math.ceil((this.lastHistoryAt + this.historyIntervalMs - now) / 1000));
        return { status: 429, body: { ok: false, error: "ratelimited" }, headers: { "retry-after": String(retryAfter) } };
      }
      this.lastHistoryAt = now;
    }
    const body = this.answer(method, args);
    if (method === "chat.postMessage" && this.postDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.postDelayMs));
    return { status: 200, body };
  }

  private connectionsOpen(token: string | undefined): Record<string, unknown> {
    if (this.socketUrl === undefined) return { ok: false, error: "unknown_method" };
    if (!token?.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
    return { ok: true, url: this.socketUrl };
  }

  private channelLimit(args: Record<string, unknown>): { status: number; body: unknown; headers: Record<string, string> } | undefined {
    const interval = this.channelIntervalMs ?? 0;
    let channel = String(args.channel ?? "");
    if (/^[UW]/.test(channel)) channel = `D${channel.slice(1)}`;
    const now = Date.now();
    const last = this.lastAccepted.get(channel);
    if (last !== undefined && now - last < interval) {
      this.postAttempts.push({ channel, at: now, accepted: false });
      const retryAfter = Math.max(1, Math.ceil((last + interval - now) / 1000));
      return { status: 429, body: { ok: false, error: "ratelimited" }, headers: { "retry-after": String(retryAfter) } };
    }
    this.lastAccepted.set(channel, now);
    this.postAttempts.push({ channel, at: now, accepted: true });
    return undefined;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case "auth.test":
        return { ok: true, team_id: this.teamId, team: "Test", user_id: this.botUserId, bot_id: "B0BOT", url: "https://test.slack.com/" };
      case "conversations.open": {
        const users = String(args.users ?? "");
        if (!/^[UW][A-Z0-9]+$/.test(users)) return { ok: false, error: "user_not_found" };
        return { ok: true, channel: { id: `D${users.slice(1)}` } };
      }
      case "chat.postMessage": {
        let channel = String(args.channel ?? "").replace(/^#/, "");
        if (channel === "") return { ok: false, error: "channel_not_found" };
        if (/^[UW]/.test(channel)) channel = `D${channel.slice(1)}`;
        else if (!/^[CGD][A-Z0-9]+$/.test(channel)) {
          const id = this.channels.get(channel);
          if (id === undefined) return { ok: false, error: "channel_not_found" };
          channel = id;
        }
        const message: FakeMessage = {
          channel,
          ts: this.nextTs(),
          text: String(args.text ?? ""),
          blocks: (args.blocks as unknown[] | undefined) ?? [],
          metadata: args.metadata as FakeMessage["metadata"],
        };
        const list = this.messages.get(channel) ?? [];
        list.push(message);
        this.messages.set(channel, list);
        return { ok: true, channel, ts: message.ts, message: { text: message.text, ts: message.ts } };
      }
      case "chat.update": {
        const message = this.messages.get(String(args.channel))?.find((m) => m.ts === String(args.ts));
        if (message === undefined) return { ok: false, error: "message_not_found" };
        message.text = String(args.text ?? "");
        message.blocks = (args.blocks as unknown[] | undefined) ?? [];
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case "chat.postEphemeral":
        return { ok: true, message_ts: this.nextTs() };
      case "users.lookupByEmail":
      case "users.info": {
        const user =
          method === "users.info"
            ? this.users.find((u) => u.id === String(args.user))
            : this.users.find((u) => u.email.toLowerCase() === String(args.email ?? "").toLowerCase());
        if (user === undefined) return { ok: false, error: method === "users.info" ? "user_not_found" : "users_not_found" };
        return {
          ok: true,
          user: {
            id: user.id,
            name: user.realName.toLowerCase(),
            real_name: user.realName,
            ...(user.tz === undefined ? {} : { tz: user.tz }),
            profile: { email: user.email, real_name: user.realName },
          },
        };
      }
      case "conversations.history": {
        const channel = String(args.channel ?? "");
        // Slack wants an id here: a name is channel_not_found.
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        const oldest = args.oldest === undefined ? Number.NEGATIVE_INFINITY : Number(args.oldest);
        const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest);
        const inRange = [...(this.messages.get(channel) ?? [])].filter((m) => Number(m.ts) >= oldest && Number(m.ts) <= latest).reverse();
        const asked = args.limit === undefined ? 100 : Number(args.limit);
        const limit = Math.min(15, asked);
        const withMetadata = args.include_all_metadata === true || args.include_all_metadata === "true";
        return {
          ok: true,
          messages: inRange
            .slice(0, limit)
            .map((m) => ({ type: "message", ts: m.ts, text: m.text, ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) })),
          has_more: inRange.length > limit,
        };
      }
      case "conversations.list": {
        const all = [...this.channels].map(([name, id]) => ({ id, name, is_channel: true }));
        const start = Number(args.cursor ?? 0) || 0;
        const size = this.listPageSize ?? (Number(args.limit ?? 100) || 100);
        const next = start + size < all.length ? String(start + size) : "";
        return { ok: true, channels: all.slice(start, start + size), response_metadata: { next_cursor: next } };
      }
      case "conversations.members": {
        const members = this.channelMembers.get(String(args.channel ?? ""));
        if (members === undefined) return { ok: false, error: "channel_not_found" };
        const start = Number(args.cursor ?? 0) || 0;
        const size = this.listPageSize ?? (Number(args.limit ?? 100) || 100);
        const next = start + size < members.length ? String(start + size) : "";
        return { ok: true, members: members.slice(start, start + size), response_metadata: { next_cursor: next } };
      }
      case "views.open":
      case "views.push":
      case "views.update":
      case "views.publish":
        return { ok: true, view: { id: `V${this.calls.length}`, ...(args.view as Record<string, unknown>) } };
      default:
        return { ok: true };
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The Web API client sends form fields whose nested values are JSON strings. */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/json")) return JSON.parse(raw || "{}") as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  return new FakeSlack(options).start();
}
