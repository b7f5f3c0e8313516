import { hostname } from "node:os";
import {
  applyNudgeBudget,
  applyPreferences,
  deliveredSinceByOwner,
  type EscalationConfig,
  escalationDetails,
  quietHoldFor,
  type Route,
  routeKey,
  routeNudge,
} from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import {
  claimDueDeliveries,
  claimLease,
  clearDeliveryIntent,
  countRetryingOutbox,
  earlierNudgeMessages,
  finishOutboxItems,
  maxDeliveryAttempts,
  nudgesOfMessage,
  nudgeView,
  type NudgeView,
  type PendingDelivery,
  recordDelivered,
  recordDeliveryIntent,
  releaseDeliveryClaims,
  renewDeliveryClaims,
  rescheduleOutboxItems,
  type Store,
} from "@keepwarm/store";
import type { webApi } from "@slack/bolt";
import { escalationMessage } from "../blocks/escalation-message";
import { MAX_DIGEST, type RenderedMessage, renderMessage } from "../blocks/nudge-message";
import type { BotLogger } from "../deps";
import { ChannelDirectory } from "./channel-directory";
import { yieldToHandlers } from "./yield";
import { type Clock, Slots, systemClock } from "@keepwarm/core";
import { deliveryMetadata, HISTORY_INTERVAL_MS, lookUpPosted } from "./message-lookup";
import { ChannelRateLimiter } from "./rate-limiter";
import { classifySlackError, type SlackFailure } from "./slack-errors";
import { WorkspacePace } from "./workspace-pace";

export const NUDGE_EVENT_TYPE = "keepwarm_nudge";
export const ESCALATION_EVENT_TYPE = "keepwarm_escalation";
const MAX_BACKOFF_MS = 10 * 60_000;
/**
 * Outbox items claimed per pass: a slice small enough that claiming and preparing it
 * (synchronous on SQLite) never holds handlers for long; the loop starts the next pass
 * at once while a backlog lasts.
 */
export const PASS_ITEMS = 1000;
/**
 * How long a pass's claim on its items holds: renewed while the pass runs (before
 * every Slack write once half of it is gone), so it only runs out when the process
 * died or stalled; then another bot takes the items over. Well above a Slack call's
 * 15 s timeout, so a claim is never lost during the call it was checked for.
 */
export const CLAIM_TTL_MS = 60_000;
/**
 * Messages per channel per pass (≈ 11 s at Slack's pace): a backlog in one channel
 * neither holds its claim for minutes nor delays message updates behind it; the
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
  /**
   * Awaited in each gap of a Slack write (fault tests stop a process there: a promise
   * that never settles is a process killed in that gap).
   */
  gap?: (gap: DeliveryGap, nudgeIds: number[]) => Promise<void> | void;
  /** How long a claim on outbox items holds without renewal (default CLAIM_TTL_MS). */
  claimTtlMs?: number;
  /** Due items claimed per pass (default PASS_ITEMS); a recipient's other due items come along. */
  passItems?: number;
  /** conversations.history calls Slack allows per minute (KEEPWARM_SLACK_HISTORY_PER_MINUTE; default 1, the 2025 limit). */
  historyPerMinute?: number;
  /** Slack writes per second for the whole workspace, shared by every process on the database (KEEPWARM_SLACK_MESSAGES_PER_SECOND). Unpaced without it. */
  messagesPerSecond?: number;
}

/** The gaps of a Slack write: claimed, not yet intended; intent recorded, call not sent; answer received, not yet recorded. */
export type DeliveryGap = "claimed" | "intent" | "answered";

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
  /** Nothing was claimed: every due item is held by another delivery process (or this one's pass still runs). */
  busy?: boolean;
  /** Items due now were left for the next pass (per-channel cap, full batch): run again at once. */
  more?: boolean;
  /** Items whose unknown outcome waits for Slack's history allowance (one look-up a minute); the rest went on. */
  waiting?: number;
  /** DMs held by the recipient's preferences: quiet hours or days, the daily digest's hour, their own daily cap. */
  held?: number;
}

/** Backoff after the n-th failed attempt (or n-th failure in a row of an outage): 2s, 4s, 8s … capped at 10 minutes. */
export const backoffMs = (attempts: number): number => Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.max(0, attempts - 1));

class PassStopped extends Error {}

/**
 * Pacing inside a lane: the wait before the lane's next message starts the moment
 * Slack answers the previous one, so the database work in between (recording that
 * post, preparing the next) runs during Slack's pace instead of adding to it, and the
 * wait is decided by the answer alone, not by how long that work took.
 */
class LanePace {
  private ready: Promise<void> | undefined;

  constructor(private readonly limiter: ChannelRateLimiter) {}

  /** Right before a call to `channel`. */
  async before(channel: string): Promise<void> {
    const ready = this.ready ?? this.limiter.wait(channel);
    this.ready = undefined;
    await ready;
  }

  /** Slack answered a call to `channel`; `more`: the lane has another message for it. */
  answered(channel: string, more: boolean): void {
    this.limiter.answered(channel);
    if (more) this.ready = this.limiter.wait(channel);
  }
}

/**
 * Work per channel: channels run side by side, each one's calls in order, so Slack's
 * per-channel pace is the only wait. A 429, an outage or a crash stops every lane
 * before its next call (calls in flight finish), and the first real error is rethrown.
 * `probe`: Slack just failed; one call goes alone first, so an outage that goes on costs
 * one call per backoff step instead of one per channel.
 */
/**
 * Slack calls (each with its bookkeeping) in flight at once per delivery process. A
 * thousand lanes started together would get a burst of a thousand answers at once, each
 * continuation running synchronous SQLite work, and starve the handlers; eight keep a
 * backlog moving faster than Slack's workspace pace while requests get their turn. A
 * lane waiting for its channel's next slot holds none.
 */
export const CALLS_AT_ONCE = 8;

async function runLanes(lanes: Array<Array<() => Promise<void>>>, probe = false): Promise<void> {
  const first = lanes.find((lane) => lane.length > 0);
  if (probe && first !== undefined) {
    const step = first.shift();
    await step?.();
  }
  let stopped = false;
  let failure: unknown;
  await Promise.all(
    lanes.map(async (lane) => {
      for (const step of lane) {
        if (stopped) return;
        try {
          // Handlers first: each step starts in its own turn of the event loop.
          await yieldToHandlers();
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
 * Drains the outbox into Slack. Several bots may run on one database: each pass
 * claims its items (claimDueDeliveries), so every item is worked on by one process,
 * and a rep's or a channel's due items by one process at a time (the daily budget
 * and digests stay whole). Without a global lock, per-channel pacing is per process:
 * only message updates from two bots can meet in one channel, and Slack's 429 then
 * paces them (Retry-After). Exactly once: before each post the claim is checked
 * (renewed) and the intent recorded (channel id, send time); the outbox id travels in
 * the message metadata. An intent without a recorded answer (a crash, a timeout, a
 * 5xx) is settled by one narrow look-up before anything is posted again (settle), so
 * a crash between Slack's answer and our commit never posts twice, whichever process
 * retries it, and no conversation's history is ever paged.
 */
export class SlackDelivery {
  private readonly clock: Clock;
  private readonly limiter: ChannelRateLimiter;
  private readonly log: BotLogger;
  private readonly claimant = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  private readonly claimTtlMs: number;
  private pausedUntil = 0;
  /** Transient failures in a row (an outage): the backoff grows with it, whichever items met it. */
  private outageStreak = 0;
  /** This pass already counted a step of the outage: lanes failing side by side are one failure. */
  private outageCounted = false;
  private lookups = 0;
  private wakeAt = Number.POSITIVE_INFINITY;
  private dmChannels = new Map<string, string>();
  private readonly directory: ChannelDirectory;
  private readonly calls = new Slots(CALLS_AT_ONCE);
  /** This pass's claim: until when it holds, the items it holds, a renewal under way. */
  private claimedUntil = 0;
  private claimed = new Set<number>();
  private renewing: Promise<void> | undefined;
  private passing = false;

  constructor(private readonly options: SlackDeliveryOptions) {
    this.clock = options.clock ?? systemClock;
    this.limiter =
      options.limiter ??
      new ChannelRateLimiter(
        this.clock,
        undefined,
        undefined,
        options.messagesPerSecond === undefined ? undefined : new WorkspacePace(options.store, this.clock, options.messagesPerSecond),
      );
    this.log = options.logger ?? { info: () => {}, warn: () => {}, error: () => {} };
    this.claimTtlMs = options.claimTtlMs ?? CLAIM_TTL_MS;
    this.directory = new ChannelDirectory(options.store, options.client, () => this.clock.now());
  }

  /** When the soonest item the last pass rescheduled alone (waiting for a look-up) is due; Infinity if none. */
  get nextWakeAt(): number {
    return this.wakeAt;
  }

  /** When the next pass may talk to Slack again (after a 429 or an outage). */
  get resumeAt(): number {
    return this.pausedUntil;
  }

  async runOnce(): Promise<DeliveryPass> {
    // One pass at a time per instance: its claims are this instance's, under one claimant id.
    if (this.passing) return { delivered: 0, updated: 0, escalated: 0, skipped: 0, failed: 0, deferred: 0, retrying: 0, busy: true };
    this.passing = true;
    try {
      return await this.pass();
    } finally {
      this.passing = false;
    }
  }

  private async pass(): Promise<DeliveryPass> {
    const pass: DeliveryPass = { delivered: 0, updated: 0, escalated: 0, skipped: 0, failed: 0, deferred: 0, retrying: 0 };
    const { store } = this.options;
    const now = this.clock.now();
    if (now < this.pausedUntil) return pass;
    this.outageCounted = false;
    this.wakeAt = Number.POSITIVE_INFINITY;
    const claim = await claimDueDeliveries(store.db, { claimant: this.claimant, now, ttlMs: this.claimTtlMs, limit: this.options.passItems ?? PASS_ITEMS });
    const items = claim.items;
    if (items.length === 0) {
      if (claim.heldElsewhere > 0) pass.busy = true;
      if (claim.more) pass.more = true;
      pass.retrying = await countRetryingOutbox(store.db);
      return pass;
    }
    this.claimedUntil = claim.claimedUntil;
    this.claimed = new Set(items.map((i) => i.outboxId));
    try {
      if (claim.more) pass.more = true;
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
      pass.retrying = await countRetryingOutbox(store.db);
      return pass;
    } finally {
      this.claimed = new Set();
      await releaseDeliveryClaims(store.db, this.claimant);
    }
  }

  /**
   * Right before a Slack write: are these items still this pass's? The claim is
   * renewed once half of it is gone; an item another process took over meanwhile
   * (this one stalled past the claim) is left to it.
   */
  private async holds(outboxIds: number[]): Promise<boolean> {
    if (this.clock.now() >= this.claimedUntil - this.claimTtlMs / 2) {
      this.renewing ??= (async () => {
        const now = this.clock.now();
        const until = now + this.claimTtlMs;
        this.claimed = new Set(await renewDeliveryClaims(this.options.store.db, this.claimant, now, until));
        this.claimedUntil = until;
      })().finally(() => {
        this.renewing = undefined;
      });
      await this.renewing;
    }
    const held = outboxIds.every((id) => this.claimed.has(id));
    if (!held) this.log.warn(`delivery: outbox ${outboxIds.join(",")} was taken over by another process; leaving it to that one`);
    return held;
  }

  private async deliverAll(items: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    const groups = new Map<string, { route: Route; items: PendingDelivery[]; digest: boolean }>();
    const routed: Array<PendingDelivery & { route: Route; recipient: string | null }> = [];
    const closedInFlight: PendingDelivery[] = [];
    let seen = 0;
    for (const item of items) {
      if (++seen % 100 === 0) await yieldToHandlers();
      // Sent once with an unknown outcome, then closed: its message may be in Slack with
      // its buttons. Find it, so it is recorded and brought up to date.
      if (item.status !== "open" && item.intentAt !== null) {
        closedInFlight.push(item);
        continue;
      }
      if (item.status !== "open") {
        await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "skipped", `nudge is ${item.status}`);
        pass.skipped++;
        continue;
      }
      const route = routeNudge(item.destination, item.ownerSlackId, this.options.fallbackChannel);
      if (route.kind === "unrouted") {
        await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "skipped", "no owner and no KEEPWARM_FALLBACK_CHANNEL");
        pass.skipped++;
        continue;
      }
      // Only DMs to a rep are budgeted; channels (the rule's or the fallback) are not.
      routed.push({ ...item, route, recipient: route.kind === "dm" ? route.user : null });
    }
    // Each rep's preferences first (mute, quiet time, digest hour, own cap), then the team's budget.
    const personal = await applyPreferences(store, routed, {
      now: this.clock.now(),
      team: this.options.calendar ?? new Calendar("UTC"),
      teamCap: this.options.maxNudgesPerDay ?? Number.MAX_SAFE_INTEGER,
    });
    pass.skipped += personal.muted;
    if (personal.held + personal.capped > 0) pass.held = (pass.held ?? 0) + personal.held + personal.capped;
    for (const item of await this.withinBudget(personal.send, pass)) {
      // A rep's daily-digest rules go out as one digest message of their own, however few.
      const key = `${item.digest ? "digest:" : ""}${routeKey(item.route)}`;
      const group = groups.get(key) ?? { route: item.route, items: [], digest: item.digest };
      group.items.push(item);
      groups.set(key, group);
    }
    const lanes: Array<Array<() => Promise<void>>> = [];
    for (const { route, items: group, digest } of groups.values()) {
      group.sort((a, b) => b.priority - a.priority || a.nudgeId - b.nudgeId);
      const units = digest || group.length >= this.options.digestThreshold ? chunk(group, MAX_DIGEST) : group.map((i) => [i]);
      // The rest stays pending, untouched, for the next pass.
      if (units.length > LANE_MESSAGES_PER_PASS) pass.more = true;
      const lane = units.slice(0, LANE_MESSAGES_PER_PASS);
      const pace = new LanePace(this.limiter);
      lanes.push(lane.map((unit, i) => () => this.deliverUnit(route, unit, pass, pace, i < lane.length - 1)));
    }
    for (const group of groupBy(closedInFlight, (i) => i.intentChannel ?? "").values()) {
      lanes.push([
        async () => {
          const absent = await this.settle(group, NUDGE_EVENT_TYPE, pass);
          for (const item of absent ?? []) {
            await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "skipped", `nudge is ${item.status}`);
            pass.skipped++;
          }
        },
      ]);
    }
    await runLanes(lanes, this.outageStreak > 0);
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
      await rescheduleOutboxItems(
        this.options.store.db,
        budget.deferred.map((item) => item.outboxId),
        tomorrow,
        note,
      );
      pass.deferred += budget.deferred.length;
    }
    return budget.now;
  }

  private async deliverUnit(route: Route, unit: PendingDelivery[], pass: DeliveryPass, pace: LanePace, more: boolean): Promise<void> {
    const { store } = this.options;
    let channel: string;
    try {
      channel = await this.channelFor(route);
    } catch (error) {
      await this.fail(unit, classifySlackError(error), pass, false);
      return;
    }
    let remaining = unit;
    if (unit.some((i) => i.intentAt !== null)) {
      // An earlier attempt may have reached Slack: settle it (one bounded look-up) before posting again.
      const absent = await this.settle(unit, NUDGE_EVENT_TYPE, pass);
      if (absent === undefined) return;
      remaining = absent;
      if (remaining.length === 0) return;
    }
    const ids = remaining.map((i) => i.outboxId);
    const nudgeIds = remaining.map((i) => i.nudgeId);
    await this.options.gap?.("claimed", nudgeIds);
    if (!(await this.holds(ids))) return;
    const views = (await Promise.all(remaining.map((i) => nudgeView(store.db, i.nudgeId)))).filter((v): v is NudgeView => v !== undefined);
    const message = renderMessage(views);
    await pace.before(channel);
    let ts: string;
    const postTo = channel;
    try {
      // The slot first, then the intent, then the call: the recorded time is when the call left.
      const result = await this.inSlot(async () => {
        // The intent before the call: if we die or never hear back, the next attempt settles it.
        await recordDeliveryIntent(store.db, ids, channel, this.clock.now());
        await this.options.gap?.("intent", nudgeIds);
        return this.options.client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          metadata: deliveryMetadata(NUDGE_EVENT_TYPE, remaining),
        });
      });
      ts = String(result.ts);
      channel = String(result.channel ?? channel);
    } catch (error) {
      const failure = classifySlackError(error);
      // A 429, a Slack error answer or a refused connection means nothing was posted: that attempt does not count.
      await this.fail(remaining, failure, pass, failure.kind !== "transient" || failure.notSent === true);
      return;
    } finally {
      pace.answered(postTo, more);
    }
    this.outageStreak = 0;
    await this.options.gap?.("answered", nudgeIds);
    this.options.afterPost?.(nudgeIds);
    await recordDelivered(store.db, remaining, { channel, ts }, this.clock.now());
    pass.delivered += remaining.length;
  }

  /**
   * Settle the unknown outcomes among `items` (an intent recorded, no answer recorded):
   * one `conversations.history` call per channel, in a narrow window around the intent,
   * matched by outbox id. Found: recorded as delivered. Returns the items to post (no
   * intent, or not found), or undefined when the look-up must wait: Slack's allowance
   * (one a minute for the workspace, shared by every process through the lease
   * `slack.history`) is spent or Slack answered 429. Waiting items are rescheduled
   * alone; every other delivery goes on. A channel whose history the bot may not read
   * (not_in_channel, missing_scope) cannot be checked: the items are posted again.
   */
  private async settle(items: PendingDelivery[], eventType: string, pass: DeliveryPass): Promise<PendingDelivery[] | undefined> {
    const { store } = this.options;
    const ids = items.map((i) => i.outboxId);
    const fresh = items.filter((i) => i.intentAt === null);
    const absent: PendingDelivery[] = [...fresh];
    for (const group of groupBy(
      items.filter((i) => i.intentAt !== null),
      (i) => i.intentChannel ?? "",
    )) {
      const [channel, unsettled] = group;
      const now = this.clock.now();
      const slot = await claimLease(
        store.db,
        { name: "slack.history", holder: `${this.claimant}:${++this.lookups}`, host: hostname(), pid: process.pid },
        Math.ceil(HISTORY_INTERVAL_MS / (this.options.historyPerMinute ?? 1)),
        now,
      );
      if (!slot.won) {
        // The lease is free strictly after its expiry.
        await this.wait(items, slot.holder.expiresAt + 1, "unknown outcome: waits for Slack's history allowance (1 look-up a minute)", pass);
        return undefined;
      }
      const times = unsettled.map((i) => i.intentAt ?? now);
      let answer: Awaited<ReturnType<typeof lookUpPosted>>;
      try {
        answer = await lookUpPosted(this.options.client, {
          channel,
          eventType,
          outboxIds: unsettled.map((i) => i.outboxId),
          from: Math.min(...times),
          to: Math.max(...times),
        });
      } catch (error) {
        const failure = classifySlackError(error);
        if (failure.kind === "rate_limited") {
          await this.wait(items, now + failure.retryAfterMs, `unknown outcome: history look-up ${failure.message}`, pass);
          return undefined;
        }
        if (failure.kind === "transient") {
          await this.fail(items, failure, pass, false);
          return undefined;
        }
        this.log.warn(`delivery: cannot read #${channel} to settle outbox ${ids.join(",")} (${failure.message}); posting again`);
        answer = { found: new Map(), truncated: false };
      }
      const byTs = new Map<string, PendingDelivery[]>();
      for (const item of unsettled) {
        const ts = answer.found.get(item.outboxId);
        if (ts === undefined) absent.push(item);
        else byTs.set(ts, [...(byTs.get(ts) ?? []), item]);
      }
      for (const [ts, found] of byTs) {
        if (eventType === NUDGE_EVENT_TYPE) {
          await recordDelivered(store.db, found, { channel, ts }, this.clock.now());
          pass.delivered += found.length;
        } else {
          await finishOutboxItems(
            store.db,
            found.map((i) => i.outboxId),
            this.clock.now(),
            "done",
          );
          pass.escalated += found.length;
        }
      }
      const missing = unsettled.filter((i) => !answer.found.has(i.outboxId));
      if (missing.length > 0 && answer.truncated) {
        this.log.warn(
          `delivery: more than one answer's messages in #${channel} around outbox ${missing.map((i) => i.outboxId).join(",")}; not among them, posting again`,
        );
      }
      await clearDeliveryIntent(
        store.db,
        missing.map((i) => i.outboxId),
        { undoAttempt: false },
      );
    }
    return absent.sort((a, b) => a.outboxId - b.outboxId).map((i) => ({ ...i, intentAt: null, intentChannel: null }));
  }

  /** One Slack call within the CALLS_AT_ONCE slots. */
  private async inSlot<T>(call: () => Promise<T>): Promise<T> {
    await this.calls.take();
    try {
      return await call();
    } finally {
      this.calls.give();
    }
  }

  /** Reschedule items alone (no pause of the pass): they wait for a look-up. */
  private async wait(items: PendingDelivery[], until: number, note: string, pass: DeliveryPass): Promise<void> {
    await rescheduleOutboxItems(
      this.options.store.db,
      items.map((i) => i.outboxId),
      until,
      note,
    );
    pass.waiting = (pass.waiting ?? 0) + items.length;
    this.wakeAt = Math.min(this.wakeAt, until);
  }

  private async channelFor(route: Route): Promise<string> {
    if (route.kind === "channel") return this.directory.idOf(route.channel);
    if (route.kind !== "dm") throw new Error("unrouted");
    const cached = this.dmChannels.get(route.user);
    if (cached !== undefined) return cached;
    const result = await this.inSlot(() => this.options.client.conversations.open({ users: route.user }));
    const id = result.channel?.id;
    if (id === undefined) throw new Error("conversations.open returned no channel");
    this.dmChannels.set(route.user, id);
    return id;
  }

  /**
   * Reschedule after a failure. Rate limits pause the whole pass until Retry-After;
   * outages back off exponentially; a refusal from Slack fails the item for good.
   */
  private async fail(items: PendingDelivery[], failure: SlackFailure, pass: DeliveryPass, undoAttempt: boolean): Promise<void> {
    const { store } = this.options;
    const now = this.clock.now();
    const ids = items.map((i) => i.outboxId);
    if (failure.kind === "permanent") {
      // A refusal is an answer: Slack is up.
      this.outageStreak = 0;
      await finishOutboxItems(store.db, ids, now, "failed", failure.message);
      pass.failed += items.length;
      this.log.warn(`delivery: ${failure.message}; giving up on outbox ${ids.join(",")}`);
      return;
    }
    if (undoAttempt) await clearDeliveryIntent(store.db, ids, { undoAttempt: true });
    if (failure.kind === "transient" && !this.outageCounted) {
      this.outageStreak++;
      this.outageCounted = true;
    }
    const attempts = await maxDeliveryAttempts(store.db, ids);
    // An outage is Slack's, not an item's: the pause grows with failures in a row, so a
    // pass of fresh items does not start again at 2 s.
    const wait = failure.kind === "rate_limited" ? failure.retryAfterMs : backoffMs(Math.max(1, attempts, this.outageStreak));
    await rescheduleOutboxItems(store.db, ids, now + wait, failure.message);
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    this.log.warn(`delivery: ${failure.message}; retrying in ${Math.round(wait / 1000)}s`);
    throw new PassStopped();
  }

  private async updateAll(items: PendingDelivery[], pass: DeliveryPass): Promise<void> {
    const { store } = this.options;
    // Several updates of one message (a digest, or two state changes) need one chat.update;
    // a nudge posted again (a snooze ended) has its earlier messages updated too.
    const byMessage = new Map<string, { channel: string; ts: string; items: PendingDelivery[]; earlier: boolean }>();
    const add = (channel: string, ts: string, item: PendingDelivery, earlier: boolean) => {
      const key = `${channel}\u0000${ts}`;
      const entry = byMessage.get(key) ?? { channel, ts, items: [], earlier };
      if (!entry.items.includes(item)) entry.items.push(item);
      entry.earlier &&= earlier;
      byMessage.set(key, entry);
    };
    const posted: PendingDelivery[] = [];
    for (const item of items) {
      if (item.slackChannel === null || item.slackTs === null) {
        await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "skipped", "never posted to Slack");
        pass.skipped++;
        continue;
      }
      posted.push(item);
      add(item.slackChannel, item.slackTs, item, false);
    }
    const byNudge = groupBy(posted, (i) => String(i.nudgeId));
    for (const m of await earlierNudgeMessages(
      store.db,
      posted.map((i) => i.nudgeId),
    ))
      for (const item of byNudge.get(String(m.nudgeId)) ?? []) add(m.channel, m.ts, item, true);
    // An item is done once every message showing its nudge is.
    const left = new Map<number, number>();
    for (const { items: group } of byMessage.values()) for (const item of group) left.set(item.outboxId, (left.get(item.outboxId) ?? 0) + 1);
    const doneWith = async (group: PendingDelivery[]) => {
      const finished = group.filter((i) => {
        const n = (left.get(i.outboxId) ?? 1) - 1;
        left.set(i.outboxId, n);
        return n === 0;
      });
      if (finished.length === 0) return;
      await finishOutboxItems(
        store.db,
        finished.map((i) => i.outboxId),
        this.clock.now(),
        "done",
      );
      pass.updated += finished.length;
    };
    const byChannel = new Map<string, { pace: LanePace; steps: Array<() => Promise<void>> }>();
    for (const { channel, ts, items: group, earlier } of byMessage.values()) {
      const lane = byChannel.get(channel) ?? { pace: new LanePace(this.limiter), steps: [] };
      byChannel.set(channel, lane);
      if (lane.steps.length === LANE_MESSAGES_PER_PASS) {
        pass.more = true;
        continue;
      }
      const step = lane.steps.length;
      lane.steps.push(async () => {
        const ids = group.map((i) => i.outboxId);
        if (!(await this.holds(ids))) return;
        const message: RenderedMessage = renderMessage(await nudgesOfMessage(store.db, channel, ts));
        await lane.pace.before(channel);
        try {
          await this.inSlot(() => this.options.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }));
          this.outageStreak = 0;
        } catch (error) {
          const failure = classifySlackError(error);
          if (earlier && failure.kind === "permanent") {
            // An earlier message someone deleted (message_not_found): nothing left to keep true there.
            this.log.warn(`delivery: earlier message ${ts} in ${channel} not updated (${failure.message}); the latest one is`);
          } else {
            // A refusal (message_not_found…) fails these items; a 429 or outage stops the pass.
            await this.fail(group, failure, pass, false);
            return;
          }
        } finally {
          lane.pace.answered(channel, step < lane.steps.length - 1);
        }
        await doneWith(group);
      });
    }
    await runLanes(
      [...byChannel.values()].map((lane) => lane.steps),
      this.outageStreak > 0,
    );
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
        await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "skipped", reason);
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
      // A person's quiet hours hold their escalation DMs too; a channel has none. One already sent (an intent) is settled first.
      if (route.kind === "dm" && item.intentAt === null) {
        const hold = await quietHoldFor(store, route.user, this.clock.now(), this.options.calendar ?? new Calendar("UTC"));
        if (hold !== undefined) {
          await rescheduleOutboxItems(store.db, [item.outboxId], hold.until, hold.why);
          pass.held = (pass.held ?? 0) + 1;
          continue;
        }
      }
      let sent = false;
      try {
        const channel = await this.channelFor(route);
        if (item.intentAt !== null) {
          const absent = await this.settle([item], ESCALATION_EVENT_TYPE, pass);
          if (absent === undefined || absent.length === 0) continue;
        }
        if (!(await this.holds([item.outboxId]))) continue;
        const message = escalationMessage(details);
        await this.limiter.wait(channel);
        await recordDeliveryIntent(store.db, [item.outboxId], channel, this.clock.now());
        sent = true;
        try {
          await this.options.client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            metadata: deliveryMetadata(ESCALATION_EVENT_TYPE, [item]),
          });
          this.outageStreak = 0;
        } finally {
          this.limiter.answered(channel);
        }
      } catch (error) {
        if (error instanceof PassStopped) throw error;
        const failure = classifySlackError(error);
        // A 429 or a refusal means nothing was posted; a network error may have posted it.
        await this.fail([item], failure, pass, sent && (failure.kind !== "transient" || failure.notSent === true));
        continue;
      }
      this.options.afterPost?.([item.nudgeId]);
      await finishOutboxItems(store.db, [item.outboxId], this.clock.now(), "done");
      pass.escalated++;
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
