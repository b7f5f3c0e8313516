import type { Clock } from "./clock";

/**
 * Slack allows about one message per second per channel: each channel gets the next
 * free slot, so messages to different channels do not wait for each other.
 */
export class ChannelRateLimiter {
  private nextFree = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly intervalMs = 1100,
  ) {}

  async wait(channel: string): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextFree.get(channel) ?? 0);
    this.nextFree.set(channel, slot + this.intervalMs);
    if (slot > now) await this.clock.sleep(slot - now);
  }
}
