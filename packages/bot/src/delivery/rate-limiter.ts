import type { Clock } from "@keepwarm/core";
import type { WorkspacePace } from "./workspace-pace";

/**
 * Slack allows about one message per second per channel: each channel gets the next
 * free slot, so messages to different channels do not wait for each other. With a
 * workspace pace, each message then also takes its slot of the whole workspace.
 */
export class ChannelRateLimiter {
  private nextFree = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly intervalMs = 1100,
    /** Least time between Slack's answer to one call and the next call to the same channel. */
    readonly afterAnswerMs = 1000,
    private readonly workspace?: WorkspacePace,
  ) {}

  async wait(channel: string): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextFree.get(channel) ?? 0);
    this.nextFree.set(channel, slot + this.intervalMs);
    if (slot > now) await this.clock.sleep(slot - now);
    await this.workspace?.take();
  }

  /**
   * Slack answered a call to this channel. Slack counts a message when it arrives, and
   * the previous one arrived before its answer: so spacing the next call from the answer
   * keeps Slack's gap ≥ afterAnswerMs however long the round trip or a stall took,
   * where spacing from the send alone gets 429s whenever one request is slower than the next.
   */
  answered(channel: string): void {
    const earliest = this.clock.now() + this.afterAnswerMs;
    if ((this.nextFree.get(channel) ?? 0) < earliest) this.nextFree.set(channel, earliest);
  }
}
