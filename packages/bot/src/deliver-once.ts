import type { Env } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import type { BotLogger } from "./deps";
import { deliveryClient } from "./delivery/slack-errors";
import { type DeliveryPass, SlackDelivery } from "./delivery/slack-delivery";

/**
 * One bounded round of Slack delivery for a CLI process (`keepwarm sweep`, `keepwarm
 * worker`): drains what is due now; what Slack defers stays queued for the bot.
 */
export async function deliverOnceToSlack(store: Store, env: Env, warn?: (line: string) => void): Promise<DeliveryPass> {
  const logger: BotLogger | undefined = warn === undefined ? undefined : { info: () => {}, warn, error: warn };
  if (env.SLACK_BOT_TOKEN === undefined) throw new Error("deliverOnceToSlack needs SLACK_BOT_TOKEN");
  const delivery = new SlackDelivery({
    store,
    client: deliveryClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL),
    fallbackChannel: env.KEEPWARM_FALLBACK_CHANNEL,
    digestThreshold: env.KEEPWARM_DIGEST_THRESHOLD,
    escalation: { managers: env.KEEPWARM_MANAGERS, escalationChannel: env.KEEPWARM_ESCALATION_CHANNEL },
    maxNudgesPerDay: env.KEEPWARM_MAX_NUDGES_PER_DAY,
    historyPerMinute: env.KEEPWARM_SLACK_HISTORY_PER_MINUTE,
    claimTtlMs: env.KEEPWARM_DELIVERY_CLAIM_SECONDS * 1000,
    messagesPerSecond: env.KEEPWARM_SLACK_MESSAGES_PER_SECOND,
    calendar: new Calendar(env.KEEPWARM_TZ),
    ...(logger ? { logger } : {}),
  });
  const total: DeliveryPass = { delivered: 0, updated: 0, escalated: 0, skipped: 0, failed: 0, deferred: 0, retrying: 0 };
  for (let i = 0; i < 20; i++) {
    const pass = await delivery.runOnce();
    total.delivered += pass.delivered;
    total.updated += pass.updated;
    total.escalated += pass.escalated;
    total.skipped += pass.skipped;
    total.failed += pass.failed;
    total.deferred += pass.deferred;
    total.retrying = pass.retrying;
    if (pass.busy) return { ...total, busy: true };
    if (pass.delivered + pass.updated + pass.escalated + pass.skipped + pass.failed === 0 || delivery.resumeAt > Date.now()) break;
  }
  return total;
}
