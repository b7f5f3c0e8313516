import { type BackgroundLoop, startBackgroundLoop } from "@keepwarm/core";
import type { BotLogger } from "../deps";
import type { DeliveryPass, SlackDelivery } from "./slack-delivery";

/** `idle()` resolves after the next complete pass (tests, `keepwarm start`). */
export type DeliveryLoop = BackgroundLoop;

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
  // Work left that is due now (a backlog) goes on at once, unless Slack asked to wait;
  // items waiting for Slack's history allowance are due before the next interval.
  const nextInMs = (more: boolean) => {
    const resume = delivery.resumeAt - Date.now();
    const wake = Math.max(0, delivery.nextWakeAt - Date.now(), resume);
    return more ? Math.max(0, resume) : Math.min(Math.max(interval, resume), wake);
  };
  return startBackgroundLoop(
    async () => {
      const pass = await delivery.runOnce();
      options.onPass?.(pass);
      if (pass.delivered + pass.updated + pass.escalated + pass.failed > 0) {
        options.logger.info(
          `delivery: ${pass.delivered} delivered, ${pass.updated} updated, ${pass.escalated} escalated, ${pass.skipped} skipped, ${pass.failed} failed${pass.deferred > 0 ? `, ${pass.deferred} wait for a later day (nudge budget)` : ""}${pass.held ? `, ${pass.held} held by the recipients' preferences` : ""}`,
        );
      }
      return { nextInMs: nextInMs(pass.more === true), settled: true };
    },
    (error) => {
      options.logger.error(`delivery pass failed: ${(error as Error).message}`);
      return { nextInMs: nextInMs(false), settled: true };
    },
  );
}
