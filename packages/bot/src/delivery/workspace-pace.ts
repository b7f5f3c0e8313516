import { reserveSlackWrite, type Store } from "@keepwarm/store";
import type { Clock } from "@keepwarm/core";

/** Messages at once before the pace applies (Slack allows short bursts). */
export const WORKSPACE_BURST = 8;

/**
 * The workspace-wide pace of Slack writes (chat.postMessage, chat.update), on top of
 * the per-channel one: `perSecond` for the whole workspace, whatever the number of
 * bots and CLIs delivering, because every one reserves its slot in the database
 * (`slack_pace`). One small write per message; the wait is decided by the reservation,
 * no polling.
 */
export class WorkspacePace {
  private readonly intervalMs: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    perSecond: number,
    private readonly burst = WORKSPACE_BURST,
  ) {
    this.intervalMs = Math.max(1, Math.round(1000 / perSecond));
  }

  async take(): Promise<void> {
    const now = this.clock.now();
    const at = await reserveSlackWrite(this.store.db, { name: "slack.write", intervalMs: this.intervalMs, burst: this.burst }, now);
    if (at > now) await this.clock.sleep(at - now);
  }
}
