import { createHash } from "node:crypto";
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";

export const REPLAY_TTL_MS = 10 * 60_000;
export const REPLAY_MAX_ENTRIES = 50_000;

/**
 * Requests already handled, so that one arriving again is answered without a second
 * write: Slack retrying an event it thinks failed (`X-Slack-Retry-Num`, same body), a
 * signed request replayed within its 5-minute window (same bytes), a Socket Mode
 * envelope delivered twice (same `envelope_id`).
 *
 * Kept for 10 minutes (longer than the 5-minute signature window, after which a replay
 * is refused as stale anyway) and bounded in size: at the cap the oldest keys go first,
 * so memory stays flat (~50k short keys, a few MB) whatever the traffic.
 *
 * In process on purpose: one bot is one process. With several replicas behind a load
 * balancer each keeps its own memory, so a replay reaching another replica would be
 * handled again; the next step then is a table keyed the same way with a unique index
 * (insert-or-ignore, expire after 10 minutes), checked here instead of the Map.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = REPLAY_TTL_MS,
    private readonly maxEntries = REPLAY_MAX_ENTRIES,
  ) {}

  /** True the first time a key is seen (within the TTL), false for a repeat. Never both for one key. */
  first(key: string): boolean {
    const now = this.now();
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > now) return false;
    if (expires !== undefined) this.seen.delete(key);
    this.seen.set(key, now + this.ttlMs);
    this.prune(now);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    // Insertion order is expiry order (one TTL for all): expired keys are at the front.
    for (const [key, expires] of this.seen) {
      if (expires > now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(key);
    }
  }
}

/** The replay key of a signed HTTP body: its hash, whatever the timestamp and signature it came with. */
export const httpReplayKey = (rawBody: Buffer): string => `http:${createHash("sha256").update(rawBody).digest("base64url").slice(0, 32)}`;

/** The replay key of a Socket Mode envelope. */
export const socketReplayKey = (envelopeId: unknown): string | undefined =>
  typeof envelopeId === "string" && envelopeId !== "" ? `socket:${envelopeId}` : undefined;

/** Context property the receivers fill (customPropertiesExtractor) with the transport's replay key. */
export const REPLAY_KEY = "keepwarmReplayKey";

/**
 * Global middleware, first in line: a request (command, action, view submission, options,
 * event) whose transport key or Events API `event_id` was already seen is acknowledged
 * with nothing and goes no further. Events are acked by Bolt before middleware runs.
 */
export function replayGuardMiddleware(guard: ReplayGuard, warn: (message: string) => void): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const keys: string[] = [];
    const transport = (args.context as Record<string, unknown>)[REPLAY_KEY];
    if (typeof transport === "string") keys.push(transport);
    const eventId = (args.body as { event_id?: unknown }).event_id;
    if (typeof eventId === "string" && eventId !== "") keys.push(`event:${eventId}`);
    // Every key is recorded (no short-circuit), so a retry is recognised by any of them.
    const fresh = keys.map((key) => guard.first(key));
    if (fresh.every(Boolean)) {
      await args.next();
      return;
    }
    const retry = args.context.retryNum === undefined ? "" : ` (Slack retry #${args.context.retryNum})`;
    warn(`ignored a request already handled${retry}: ${keys.join(", ")}`);
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    if (ack !== undefined) await ack();
  };
}
