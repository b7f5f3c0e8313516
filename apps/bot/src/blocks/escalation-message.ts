import type { EscalationDetails } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import { clip, escapeMrkdwn } from "../slack-text";

/** History lines carry `<@U…>` mentions of our own making; everything else is escaped. */
const keepMentions = (text: string): string => escapeMrkdwn(text).replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, "<@$1>");

/** An escalation: which customer, why, the nudge's history, and why it reached this person or channel. */
export function escalationMessage(details: EscalationDetails): { text: string; blocks: types.KnownBlock[] } {
  const headline = `:warning: *${escapeMrkdwn(details.customerName)}* (${escapeMrkdwn(details.customerExternalId)}): nudge #${details.nudgeId} is still ${details.status}`;
  const why = `*Why:* ${escapeMrkdwn(details.explanation)}`;
  const history = details.history.map((line) => `• ${keepMentions(line)}`);
  const routedBecause = `Escalated to you as: ${keepMentions(details.route.why)}`;
  return {
    text: [headline, why, ...history].join("\n"),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: clip(`${headline}\n${why}`, 2900) } },
      { type: "section", text: { type: "mrkdwn", text: clip(`*History*\n${history.join("\n")}`, 2900) } },
      { type: "context", elements: [{ type: "mrkdwn", text: clip(routedBecause, 2000) }] },
    ],
  };
}
