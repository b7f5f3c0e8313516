import {
  applyNudgeBudget,
  deliveredSinceByOwner,
  type EscalationConfig,
  escalationDetails,
  markOutboxDone,
  type NudgeView,
  type PendingDelivery,
  pendingDeliveries,
  type Route,
  releaseLease,
  routeKey,
  routeNudge,
  tryAcquireLease,
} from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import type { webApi } from "@slack/bolt";
import { escalationMessage } from "../blocks/escalation-message";
import { MAX_DIGEST, type RenderedMessage, renderMessage } from "../blocks/nudge-message";
import type { BotLogger } from "../deps";
import { nudgesOfMessage, nudgeView } from "../queries";
import { type Clock, systemClock } from "./clock";
import { ChannelRateLimiter } from "./rate-limiter";
import { classifySlackError, type SlackFailure } from "./slack-errors";

export const NUDGE_EVENT_TYPE = "keepwarm_nudge";
export const ESCALATION_EVENT_TYPE = "keepwarm_escalation";
const LEASE = "slack-delivery";
const MAX_BACKOFF_MS = 10 * 60_000;
/** Outbox items read per pass: enough to give every busy channel a full lane. */
const PASS_ITEMS = 5000;
/**
 * Messages per channel per pass (≈ 11 s at Slack's pace): a backlog in one channel
 * neither holds the lease for minutes nor delays message updates behind it; the
 * loop starts the next pass at once.
 */
export const LANE_MESSAGES_PER_PASS = 10;

export interface SlackDeliveryOptions {
  store: Store;
  client: webApi.WebClient;
  fallbackChannel?: string | undefined;
  digestThreshold: number;
  escalation?: EscalationConfig;
  /** KEEPWARM_MAX_NUDGES_PER_DAY: owner DMs per rep and calendar day; the rest wait in the outbox. Unlimited without it. */
  maxNudgesPerDay?: number;
  /** Where a rep's day starts for the budget (KEEPWARM_TZ); UTC without it. */
  calendar?: Calendar;
  clock?: Clock;
  limiter?: ChannelRateLimiter;
  logger?: BotLogger;
  /** Called after Slack accepted a message and before the database records it (tests crash here). */
  afterPost?: (nudgeIds: number[]) => void;
}

export interface DeliveryPass {
  delivered: number;
  updated: number;
  escalated: number;
  skipped: number;
  failed: number;
  /** Nudges over a rep's daily budget: still pending, due again when the rep's next day starts. */
  deferred: number;
  /** Items left for a later pass (rate limit, outage). */
  retrying: number;
  /** Another process holds the delivery lease. */
  busy?: boolean;
  /** Items due now were left for the next pass (per-channel cap, full batch): run again at once. */
  more?: boolean;
}

/** Backoff after the n-th failed attempt: 2s, 4s, 8s … capped at 10 minutes. */
export const backoffMs = (attempts: number): number => Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.max(0, attempts - 1));

class PassStopped extends Error {}

/**
 * Work per channel: channels run side by side, each one's calls in order, so Slack's
 * per-channel pace is the only wait. A 429, an outage or a crash stops every lane
 * before its next call (calls in flight finish), and the first real error is rethrown.
 */
async function runLanes(lanes: Array<Array<() => Promise<void>>>): Promise<void> {
  let stopped = false;
  let failure: unknown;
  await Promise.all(
    lanes.map(async (lane) => {
      for (const step of lane) {
        if (stopped) return;
        try {
          await step();
        } catch (error) {
          stopped = true;
          if (!(error instanceof PassStopped) && failure === undefined) failure = error;
          return;
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
  if (stopped) throw new PassStopped();
}

/**
 * Drains the outbox into Slack. Exactly once: an item's attempt is counted before
 * posting, the nudge id travels in the message metadata, and an item with earlier
 * attempts is first looked for in the conversation, so a crash between Slack's
 * answer and our commit never posts twice.
 */
export class SlackDelivery {
  private readonly clock: Clock;
  private readonly limiter: ChannelRateLimiter;
  private readonly log: BotLogger;
  private pausedUntil = 0;
  private dmChannels = new Map<string, string>();

  constructor(private readonly options: SlackDeliveryOptions) {
    this.clock = options.clock ?? systemClock;
    this.limiter = options.limiter ?? new ChannelRateLimiter(this.clock);
    this.log = options.logger ?? { info: () => {}, warn: () => {}, error: () => {} };
  }

  /** When the next pass may talk to Slack again (after a 429 or an outage). */
  get resumeAt(): number {
    return this.pausedUntil;
  }

  async runOnce(): Promise<DeliveryPass> {
    const pass: DeliveryPass = { delivered: 0, updated: 0, escalated: 0, skipped: 0, failed: 0, deferred: 0, retrying: 0 };
    const { store } = this.options;
    const now = this.clock.now();
    if (now < this.pausedUntil) return pass;
    const lease = tryAcquireLease(store, LEASE, 120_000, now);
    if ("busy" in lease) return { ...pass, busy: true };
    try {
      const items = await pendingDeliveries(store, now, PASS_ITEMS);
      if (items.length === PASS_ITEMS) pass.more = true;
      try {
        await this.deliverAll(
          items.filter((i) => i.kind === "deliver"),
          pass,
        );
        await this.updateAll(
          items.filter((i) => i.kind === "update"),
          pass,
        );
        await this.escalateAll(
          items.filter((i) => i.kind === "escalate"),
          pass,
        );
      } catch (error) {
        if (!(error instanceof PassStopped)) throw error;
      }
      pass.retrying = (store.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND attempts > 0").get() as { n: number }).n;
      return pass;
    } finally {
      releaseLease(store, lease);
    }
  }

  private async deliverAll(items: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    const groups = new Map<string, { route: Route; items: PendingDelivery[] }>();
    const routed: Array<PendingDelivery & { route: Route; recipient: string | null }> = [];
    for (const item of items) {
      if (item.status !== "open") {
        await markOutboxDone(store, item.outboxId, this.clock.now(), "skipped", `nudge is ${item.status}`);
        pass.skipped++;
        continue;
      }
      const route = routeNudge(item.destination, item.ownerSlackId, this.options.fallbackChannel);
      if (route.kind === "unrouted") {
        await markOutboxDone(store, item.outboxId, this.clock.now(), "skipped", "no owner and no KEEPWARM_FALLBACK_CHANNEL");
        pass.skipped++;
        continue;
      }
      // Only DMs to a rep are budgeted; channels (the rule's or the fallback) are not.
      routed.push({ ...item, route, recipient: route.kind === "dm" ? route.user : null });
    }
    for (const item of await this.withinBudget(routed, pass)) {
      const key = routeKey(item.route);
      const group = groups.get(key) ?? { route: item.route, items: [] };
      group.items.push(item);
      groups.set(key, group);
    }
    const lanes: Array<Array<() => Promise<void>>> = [];
    for (const { route, items: group } of groups.values()) {
      group.sort((a, b) => b.priority - a.priority || a.nudgeId - b.nudgeId);
      const units = group.length >= this.options.digestThreshold ? chunk(group, MAX_DIGEST) : group.map((i) => [i]);
      // The rest stays pending, untouched, for the next pass.
      if (units.length > LANE_MESSAGES_PER_PASS) pass.more = true;
      lanes.push(units.slice(0, LANE_MESSAGES_PER_PASS).map((unit) => () => this.deliverUnit(route, unit, pass)));
    }
    await runLanes(lanes);
  }

  /**
   * The nudge budget: what each rep may still receive today, highest priority first
   * (ties: oldest outbox item first). The rest stay pending and are not looked at again
   * before the rep's next calendar day, so a backlog never crowds out other reps' nudges.
   */
  private async withinBudget<T extends PendingDelivery & { recipient: string | null }>(items: T[], pass: DeliveryPass): Promise<T[]> {
    const max = this.options.maxNudgesPerDay;
    if (max === undefined || items.every((i) => i.recipient === null)) return items;
    const calendar = this.options.calendar ?? new Calendar("UTC");
    const now = this.clock.now();
    const today = calendar.dayNumber(now);
    const budget = applyNudgeBudget(items, await deliveredSinceByOwner(this.options.store, calendar.startOfDay(today)), max);
    if (budget.deferred.length > 0) {
      const tomorrow = calendar.startOfDay(today + 1);
      const note = `nudge budget: ${max} per rep and day reached; waits until ${calendar.isoDate(tomorrow)}`;
      const defer = this.options.store.sqlite.prepare("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'");
      this.options.store.sqlite.transaction(() => {
        for (const item of budget.deferred) defer.run(tomorrow, note, item.outboxId);
      })();
      pass.deferred += budget.deferred.length;
    }
    return budget.now;
  }

  private async deliverUnit(route: Route, unit: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    const ids = unit.map((i) => i.outboxId);
    const placeholders = ids.map(() => "?").join(",");
    let channel: string;
    try {
      channel = await this.channelFor(route);
    } catch (error) {
      this.fail(unit, classifySlackError(error), pass, false);
      return;
    }
    let remaining = unit;
    if (unit.some((i) => i.attempts > 0)) {
      // An earlier attempt may have reached Slack: find it before posting again.
      let found: Map<number, string>;
      try {
        found = await this.findPosted(
          channel,
          unit.map((i) => i.nudgeId),
        );
      } catch (error) {
        this.fail(unit, classifySlackError(error), pass, false);
        return;
      }
      for (const item of unit) {
        const ts = found.get(item.nudgeId);
        if (ts !== undefined) {
          await this.recordDelivered([item], channel, ts);
          pass.delivered++;
        }
      }
      remaining = unit.filter((i) => !found.has(i.nudgeId));
      if (remaining.length === 0) return;
    }
    // Count the attempt before posting: if we die after Slack accepts, the next run reconciles.
    store.sqlite.prepare(`UPDATE outbox SET attempts = attempts + 1 WHERE id IN (${placeholders})`).run(...ids);
    const views = remaining.map((i) => nudgeView(store, i.nudgeId)).filter((v): v is NudgeView => v !== undefined);
    const message = renderMessage(views);
    await this.limiter.wait(channel);
    let ts: string;
    const postTo = channel;
    try {
      const result = await this.options.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        metadata: {
          event_type: NUDGE_EVENT_TYPE,
          event_payload:
            remaining.length === 1
              ? { nudge_id: remaining[0]?.nudgeId ?? 0 }
              : { nudge_id: remaining[0]?.nudgeId ?? 0, nudge_ids: remaining.map((i) => i.nudgeId).join(",") },
        },
      });
      ts = String(result.ts);
      channel = String(result.channel ?? channel);
    } catch (error) {
      const failure = classifySlackError(error);
      // A 429 or a Slack error answer means nothing was posted: that attempt does not count.
      this.fail(remaining, failure, pass, failure.kind !== "transient");
      return;
    } finally {
      this.limiter.answered(postTo);
    }
    this.options.afterPost?.(remaining.map((i) => i.nudgeId));
    await this.recordDelivered(remaining, channel, ts);
    pass.delivered += remaining.length;
  }

  private async recordDelivered(items: PendingDelivery[], channel: string, ts: string): Promise<void> {
    const { store } = this.options;
    const now = this.clock.now();
    const mark = store.sqlite.prepare("UPDATE nudges SET delivered_at = coalesce(delivered_at, ?), slack_channel = ?, slack_ts = ? WHERE id = ?");
    store.sqlite.transaction(() => {
      for (const item of items) mark.run(now, channel, ts, item.nudgeId);
    })();
    for (const item of items) await markOutboxDone(store, item.outboxId, now);
  }

  /** Messages in the conversation carrying our metadata (of this event type), by nudge id. */
  private async findPosted(channel: string, nudgeIds: number[], eventType = NUDGE_EVENT_TYPE): Promise<Map<number, string>> {
    const wanted = new Set(nudgeIds);
    const found = new Map<number, string>();
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const result = await this.options.client.conversations.history({ channel, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) });
      for (const message of result.messages ?? []) {
        const metadata = message.metadata as { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
        if (metadata?.event_type !== eventType || message.ts === undefined) continue;
        const payload = metadata.event_payload ?? {};
        // A digest lists its nudges as "1,2,3" (metadata values are scalars).
        const ids = typeof payload.nudge_ids === "string" ? payload.nudge_ids.split(",").map(Number) : [Number(payload.nudge_id)];
        for (const id of ids) if (wanted.has(id) && !found.has(id)) found.set(id, message.ts);
      }
      cursor = result.response_metadata?.next_cursor || undefined;
      if (cursor === undefined || found.size === wanted.size) break;
    }
    return found;
  }

  private async channelFor(route: Route): Promise<string> {
    if (route.kind === "channel") return route.channel;
    if (route.kind !== "dm") throw new Error("unrouted");
    const cached = this.dmChannels.get(route.user);
    if (cached !== undefined) return cached;
    const result = await this.options.client.conversations.open({ users: route.user });
    const id = result.channel?.id;
    if (id === undefined) throw new Error("conversations.open returned no channel");
    this.dmChannels.set(route.user, id);
    return id;
  }

  /**
   * Reschedule after a failure. Rate limits pause the whole pass until Retry-After;
   * outages back off exponentially; a refusal from Slack fails the item for good.
   */
  private fail(items: PendingDelivery[], failure: SlackFailure, pass: DeliveryPass, undoAttempt: boolean): void {
    const { store } = this.options;
    const now = this.clock.now();
    const ids = items.map((i) => i.outboxId);
    const placeholders = ids.map(() => "?").join(",");
    if (failure.kind === "permanent") {
      store.sqlite.prepare(`UPDATE outbox SET status = 'failed', done_at = ?, last_error = ? WHERE id IN (${placeholders})`).run(now, failure.message, ...ids);
      pass.failed += items.length;
      this.log.warn(`delivery: ${failure.message}; giving up on outbox ${ids.join(",")}`);
      return;
    }
    if (undoAttempt) store.sqlite.prepare(`UPDATE outbox SET attempts = max(0, attempts - 1) WHERE id IN (${placeholders})`).run(...ids);
    const attempts = (store.sqlite.prepare(`SELECT max(attempts) AS a FROM outbox WHERE id IN (${placeholders})`).get(...ids) as { a: number }).a;
    const wait = failure.kind === "rate_limited" ? failure.retryAfterMs : backoffMs(Math.max(1, attempts));
    store.sqlite.prepare(`UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id IN (${placeholders})`).run(now + wait, failure.message, ...ids);
    this.pausedUntil = now + wait;
    this.log.warn(`delivery: ${failure.message}; retrying in ${Math.round(wait / 1000)}s`);
    throw new PassStopped();
  }

  private async updateAll(items: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    // Several updates of one message (a digest, or two state changes) need one chat.update.
    const byMessage = new Map<string, { channel: string; ts: string; items: PendingDelivery[] }>();
    for (const item of items) {
      if (item.slackChannel === null || item.slackTs === null) {
        await markOutboxDone(store, item.outboxId, this.clock.now(), "skipped", "never posted to Slack");
        pass.skipped++;
        continue;
      }
      const key = `${item.slackChannel}\u0000${item.slackTs}`;
      const entry = byMessage.get(key) ?? { channel: item.slackChannel, ts: item.slackTs, items: [] };
      entry.items.push(item);
      byMessage.set(key, entry);
    }
    const byChannel = new Map<string, Array<() => Promise<void>>>();
    for (const { channel, ts, items: group } of byMessage.values()) {
      const lane = byChannel.get(channel) ?? [];
      byChannel.set(channel, lane);
      if (lane.length === LANE_MESSAGES_PER_PASS) {
        pass.more = true;
        continue;
      }
      lane.push(async () => {
        const message: RenderedMessage = renderMessage(nudgesOfMessage(store, channel, ts));
        await this.limiter.wait(channel);
        try {
          await this.options.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
        } catch (error) {
          // A refusal (message_not_found…) fails these items; a 429 or outage stops the pass.
          this.fail(group, classifySlackError(error), pass, false);
          return;
        } finally {
          this.limiter.answered(channel);
        }
        const now = this.clock.now();
        for (const item of group) await markOutboxDone(store, item.outboxId, now);
        pass.updated += group.length;
      });
    }
    await runLanes([...byChannel.values()]);
  }

  /**
   * Escalations, routed at delivery by `escalationDetails` (rule's escalateTo → the
   * owner's manager by DM → KEEPWARM_ESCALATION_CHANNEL). Exactly once, like nudges:
   * the attempt is counted before posting and a retry first looks for the message.
   */
  private async escalateAll(items: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    for (const item of items) {
      const details = await escalationDetails(store, item.nudgeId, this.options.escalation ?? { managers: {} });
      const skip = async (reason: string) => {
        await markOutboxDone(store, item.outboxId, this.clock.now(), "skipped", reason);
        pass.skipped++;
      };
      if (details === undefined) {
        await skip("nudge not found");
        continue;
      }
      if (details.route.kind === "unrouted") {
        await skip(`no escalation target: ${details.route.why}`);
        continue;
      }
      // Acted on since the sweep escalated it (touch, snooze, dismiss): nothing left to escalate.
      if (details.status !== "open") {
        await skip(`nudge is ${details.status}`);
        continue;
      }
      const route: Route = details.route.kind === "dm" ? { kind: "dm", user: details.route.user } : { kind: "channel", channel: details.route.channel };
      let counted = false;
      try {
        const channel = await this.channelFor(route);
        if (item.attempts > 0 && (await this.findPosted(channel, [item.nudgeId], ESCALATION_EVENT_TYPE)).has(item.nudgeId)) {
          await markOutboxDone(store, item.outboxId, this.clock.now());
          pass.escalated++;
          continue;
        }
        store.sqlite.prepare("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?").run(item.outboxId);
        counted = true;
        const message = escalationMessage(details);
        await this.limiter.wait(channel);
        try {
          await this.options.client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            metadata: { event_type: ESCALATION_EVENT_TYPE, event_payload: { nudge_id: item.nudgeId } },
          });
        } finally {
          this.limiter.answered(channel);
        }
      } catch (error) {
        const failure = classifySlackError(error);
        // A 429 or a refusal means nothing was posted; a network error may have posted it.
        this.fail([item], failure, pass, counted && failure.kind !== "transient");
        continue;
      }
      this.options.afterPost?.([item.nudgeId]);
      await markOutboxDone(store, item.outboxId, this.clock.now());
      pass.escalated++;
    }
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
