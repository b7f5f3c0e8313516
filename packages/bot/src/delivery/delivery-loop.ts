import type { BotLogger } from "../deps";
import type { DeliveryPass, SlackDelivery } from "./slack-delivery";

export interface DeliveryLoop {
  /** Run a pass soon (a state change to show, a sweep that planned nudges). */
  kick(): void;
  stop(): Promise<void>;
  /** Resolves after the next complete pass (tests, `keepwarm start`). */
  idle(): Promise<void>;
}

/**
 * Delivery in the background of the bot: a pass every `intervalMs` or when kicked.
 * Passes never overlap, and all Slack I/O is awaited, so interactive handlers keep
 * being served while a pass waits on rate limits.
 */
export function startDeliveryLoop(
  delivery: SlackDelivery,
  options: { intervalMs?: number; logger: BotLogger; onPass?: (pass: DeliveryPass) => void },
): DeliveryLoop {
  const interval = options.intervalMs ?? 5000;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  };

  function run(): void {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      let more = false;
      try {
        const pass = await delivery.runOnce();
        more = pass.more === true;
        options.onPass?.(pass);
        if (pass.delivered + pass.updated + pass.escalated + pass.failed > 0) {
          options.logger.info(
            `delivery: ${pass.delivered} delivered, ${pass.updated} updated, ${pass.escalated} escalated, ${pass.skipped} skipped, ${pass.failed} failed${pass.deferred > 0 ? `, ${pass.deferred} wait for a later day (nudge budget)` : ""}${pass.held ? `, ${pass.held} held by the recipients' preferences` : ""}`,
          );
        }
      } catch (error) {
        options.logger.error(`delivery pass failed: ${(error as Error).message}`);
      } finally {
        running = undefined;
        const done = waiters;
        waiters = [];
        for (const resolve of done) resolve();
        // Work left that is due now (a backlog) goes on at once, unless Slack asked to wait.
        const resume = delivery.resumeAt - Date.now();
        // Items waiting for Slack's history allowance are due before the next interval: wake for them.
        const wake = Math.max(0, delivery.nextWakeAt - Date.now(), resume);
        const wait = again ? 0 : more ? Math.max(0, resume) : Math.min(Math.max(interval, resume), wake);
        again = false;
        schedule(wait);
      }
    })();
  }

  schedule(0);
  return {
    kick() {
      if (running !== undefined) again = true;
      else schedule(0);
    },
    idle() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        if (running === undefined) schedule(0);
      });
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      for (const resolve of waiters) resolve();
      waiters = [];
    },
  };
}
