import type { Env } from "@keepwarm/core";
import type { webApi } from "@slack/bolt";
import { ruleChangeAnnouncement } from "../../blocks/rules-review";
import { classifySlackError, deliveryClient } from "../../delivery/slack-errors";

type Poster = Pick<webApi.WebClient, "chat">;

/** Who hears about a rule change: every admin by DM, and the fallback channel when set. */
export function announcementRecipients(env: Pick<Env, "KEEPWARM_ADMINS" | "KEEPWARM_FALLBACK_CHANNEL">): string[] {
  return [...new Set([...env.KEEPWARM_ADMINS, ...(env.KEEPWARM_FALLBACK_CHANNEL ? [env.KEEPWARM_FALLBACK_CHANNEL] : [])])];
}

/**
 * Post the announcement to each recipient. A recipient Slack refuses does not stop
 * the others, and never undoes the change: it is saved already.
 */
export async function announceRuleChange(
  client: Poster,
  env: Pick<Env, "KEEPWARM_ADMINS" | "KEEPWARM_FALLBACK_CHANNEL">,
  text: string,
  warn: (line: string) => void,
): Promise<{ sent: string[]; failed: string[] }> {
  const sent: string[] = [];
  const failed: string[] = [];
  for (const channel of announcementRecipients(env)) {
    try {
      // A user id as channel posts to the app's DM with that user.
      await client.chat.postMessage({ channel, text, unfurl_links: false });
      sent.push(channel);
    } catch (error) {
      failed.push(channel);
      warn(`could not announce the rule change to ${channel}: ${classifySlackError(error).message}`);
    }
  }
  return { sent, failed };
}

/** For the CLI (`rules apply`, `rules rollback`): announce in Slack when a bot token is configured. */
export async function announceRuleChangeToSlack(
  env: Env,
  change: { author: string; version: number; previousVersion: number | undefined; via: string; summary: string },
  warn: (line: string) => void,
): Promise<{ sent: string[]; failed: string[] } | undefined> {
  if (env.SLACK_BOT_TOKEN === undefined) return undefined;
  const client = deliveryClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL);
  return announceRuleChange(client, env, ruleChangeAnnouncement(change), warn);
}
