import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import {
  claimDueWebhookDeliveries,
  postponeWebhookDeliveries,
  recordWebhookAttempt,
  releaseDeliveryClaims,
  type Store,
  type WebhookDelivery,
} from "@keepwarm/store";
import { type BackgroundLoop, startBackgroundLoop } from "../../background-loop";
import { type Clock, systemClock } from "../clock";
import { Slots } from "../../slots";
import { postWebhook } from "./http-post";
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, webhookSignature } from "./signature";

/** Attempts per delivery before it is marked failed (`keepwarm webhooks retry` sends it again). */
export const WEBHOOK_MAX_ATTEMPTS = 10;
/** One request, answer included, may take this long. */
export const WEBHOOK_TIMEOUT_MS = 5000;
/** The wait after the n-th failed attempt: 30 s, 1, 2, 4, 8, 16, 32, 64, 128 min (≈ 4 h 15 min in all). */
export const webhookBackoffMs = (failedAttempts: number): number => 30_000 * 2 ** Math.max(0, failedAttempts - 1);
/** Requests in flight per process, and per webhook. */
export const WEBHOOK_CONCURRENCY = 8;
export const WEBHOOK_CONCURRENCY_PER_RECEIVER = 2;
/** Deliveries claimed per pass, and sent per webhook per pass (≤ 10 × 5 s ÷ 2 = 25 s, inside the claim). */
const PASS_ITEMS = 100;
const PER_WEBHOOK_PER_PASS = 10;
/** How long a pass's claim holds: longer than any pass can last, so only a dead or stalled process loses it. */
export const WEBHOOK_CLAIM_TTL_MS = 60_000;

export interface WebhookSenderOptions {
  store: Store;
  clock?: Clock;
  timeoutMs?: number;
  maxAttempts?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface WebhookPass {
  /** Deliveries a receiver accepted (2xx). */
  sent: number;
  /** Failed attempts that will be retried. */
  retrying: number;
  /** Deliveries that used their last attempt. */
  failed: number;
  /** Not attempted: their receiver had just failed in this pass; due again with the failed one. */
  postponed: number;
  /** Due items were left for the next pass: run again at once. */
  more: boolean;
}

/**
 * Sends webhook deliveries from the outbox. It runs beside Slack delivery, never in its
 * passes: its own claims (the same claim columns, its own claimant) and its own loop,
 * so a receiver that hangs or fails costs this sender's slots, never a Slack post.
 * Within a pass each webhook is a lane of at most two requests at once; a failure stops
 * the lane, and its unsent items wait with the failed one (no attempt counted), so a
 * receiver that is down costs one request per backoff step, not one per queued event.
 */
export class WebhookSender {
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly slots: Slots;
  private readonly claimant = `webhooks:${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  private passing = false;

  constructor(private readonly options: WebhookSenderOptions) {
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.maxAttempts = options.maxAttempts ?? WEBHOOK_MAX_ATTEMPTS;
    this.slots = new Slots(options.concurrency ?? WEBHOOK_CONCURRENCY);
  }

  async runOnce(): Promise<WebhookPass> {
    const pass: WebhookPass = { sent: 0, retrying: 0, failed: 0, postponed: 0, more: false };
    if (this.passing) return pass;
    this.passing = true;
    const { store } = this.options;
    try {
      const now = this.clock.now();
      const items = await claimDueWebhookDeliveries(store.db, { claimant: this.claimant, now, ttlMs: WEBHOOK_CLAIM_TTL_MS, limit: PASS_ITEMS });
      if (items.length === PASS_ITEMS) pass.more = true;
      const lanes = new Map<number, WebhookDelivery[]>();
      for (const item of items) {
        const lane = lanes.get(item.webhookId) ?? [];
        if (lane.length < PER_WEBHOOK_PER_PASS) lane.push(item);
        else pass.more = true;
        lanes.set(item.webhookId, lane);
      }
      const deadline = now + WEBHOOK_CLAIM_TTL_MS - this.timeoutMs;
      await Promise.all([...lanes.values()].map((lane) => this.runLane(lane, pass, deadline)));
    } finally {
      // Items claimed and not worked on (over a lane's share) are free again at once.
      await releaseDeliveryClaims(store.db, this.claimant);
      this.passing = false;
    }
    return pass;
  }

  private async runLane(lane: WebhookDelivery[], pass: WebhookPass, deadline: number): Promise<void> {
    const queue = [...lane];
    let stopped: { until: number; note: string } | undefined;
    const worker = async (most: number) => {
      for (let sent = 0; sent < most && stopped === undefined && queue.length > 0; sent++) {
        await this.slots.take();
        try {
          // Near the claim's end nothing new starts: what is left is released, due as it was.
          if (stopped !== undefined || this.clock.now() >= deadline) return;
          const item = queue.shift();
          if (item === undefined) return;
          const failed = await this.send(item, pass);
          if (failed !== undefined) stopped ??= failed;
        } finally {
          this.slots.give();
        }
      }
    };
    // The first request goes alone: a receiver that is down costs one request per pass.
    await worker(1);
    await Promise.all(Array.from({ length: WEBHOOK_CONCURRENCY_PER_RECEIVER }, () => worker(Number.POSITIVE_INFINITY)));
    if (stopped !== undefined && queue.length > 0) {
      await postponeWebhookDeliveries(
        this.options.store.db,
        this.claimant,
        queue.map((item) => item.outboxId),
        stopped.until,
        `waiting: ${stopped.note}`,
      );
      pass.postponed += queue.length;
    }
  }

  /** One attempt, recorded; when it failed (to be retried), when the receiver's lane may go on and why. */
  private async send(item: WebhookDelivery, pass: WebhookPass): Promise<{ until: number; note: string } | undefined> {
    const startedAt = this.clock.now();
    const signature = webhookSignature(item.secret, item.payload, Math.floor(startedAt / 1000));
    const began = performance.now();
    const answer = await postWebhook(
      item.url,
      item.payload,
      { [WEBHOOK_SIGNATURE_HEADER]: signature, [WEBHOOK_EVENT_ID_HEADER]: item.eventId, [WEBHOOK_EVENT_TYPE_HEADER]: item.type },
      this.timeoutMs,
    );
    const durationMs = Math.round(performance.now() - began);
    const attempt = item.attempts + 1;
    const now = this.clock.now();
    const outcome = answer.error === null ? "done" : attempt >= this.maxAttempts ? "failed" : "retry";
    const nextAttemptAt = outcome === "retry" ? now + webhookBackoffMs(attempt) : now;
    await recordWebhookAttempt(this.options.store.db, {
      outboxId: item.outboxId,
      claimant: this.claimant,
      attempt,
      startedAt,
      durationMs,
      httpStatus: answer.status,
      error: answer.error,
      outcome,
      nextAttemptAt,
      now,
    });
    if (outcome === "done") {
      pass.sent++;
      return undefined;
    }
    // The URL only, never the secret or the body.
    this.options.log?.(`webhook ${item.webhookId} (${item.url}): ${item.type} ${item.eventId} attempt ${attempt} failed: ${answer.error}`);
    if (outcome === "failed") {
      pass.failed++;
      return { until: now, note: `delivery ${item.outboxId} to this webhook failed` };
    }
    pass.retrying++;
    return { until: nextAttemptAt, note: `delivery ${item.outboxId} to this webhook failed (${answer.error})` };
  }
}

export type WebhookLoop = BackgroundLoop;

/**
 * The sender in the background of a long-running process (bot, api, start, worker): a
 * pass every `intervalMs` (default 1 s), at once again while a backlog lasts. Passes
 * never overlap; it shares nothing with the Slack delivery loop but the database.
 */
export function startWebhookLoop(sender: WebhookSender, options: { intervalMs?: number; log?: (line: string) => void } = {}): WebhookLoop {
  const interval = options.intervalMs ?? 1000;
  return startBackgroundLoop(
    async () => {
      const pass = await sender.runOnce();
      if (pass.sent + pass.failed > 0) options.log?.(`webhooks: ${pass.sent} sent, ${pass.retrying} to retry, ${pass.failed} failed`);
      return { nextInMs: pass.more ? 0 : interval, settled: true };
    },
    (error) => {
      options.log?.(`webhook pass failed: ${(error as Error).message}`);
      return { nextInMs: interval, settled: true };
    },
  );
}
