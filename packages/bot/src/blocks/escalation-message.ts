import type { EscalationDetails } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import { clip, escapeKeepingMentions, escapeMrkdwn } from "../slack-text";

/** An escalation: which customer, why, the nudge's history, and why it reached this person or channel. */
export function escalationMessage(details: EscalationDetails): { text: string; blocks: types.KnownBlock[] } {
  const headline = `:warning: *${escapeMrkdwn(details.customerName)}* (${escapeMrkdwn(details.customerExternalId)}): nudge #${details.nudgeId} is still ${details.status}`;
  const why = `*Why:* ${escapeMrkdwn(details.explanation)}`;
  // History lines carry `<@U…>` mentions of our own making, all of the owner (delivered to, manager of);
  // everything else in them (rule name, explanation, who snoozed) is data: escaped, other mentions included.
  const known = [details.ownerSlackId];
  const history = details.history.map((line) => `• ${escapeKeepingMentions(line, known)}`);
  const routedBecause = `Escalated to you as: ${escapeKeepingMentions(details.route.why, known)}`;
  return {
    text: clip([headline, why, ...history].join("\n"), 3000),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: clip(`${headline}\n${why}`, 2900) } },
      { type: "section", text: { type: "mrkdwn", text: clip(`*History*\n${history.join("\n")}`, 2900) } },
      { type: "context", elements: [{ type: "mrkdwn", text: clip(routedBecause, 2000) }] },
    ],
  };
}
