import { SNOOZE_DAYS } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import { encodeRef } from "../payloads";
import type { NudgeView } from "@keepwarm/core";
import { clip, days, escapeKeepingMentions, escapeMrkdwn, mention, slackStateLine } from "../slack-text";

type KnownBlock = types.KnownBlock;

const PRIORITY = ["", "low", "normal", "high", "urgent"];
export const ACTION = {
  logTouch: "nudge_log_touch",
  snooze: "nudge_snooze",
  dismiss: "nudge_dismiss",
  claim: "nudge_claim",
} as const;

/** The facts line: owner, segment, last touch, NPS, from the facts the rule read. */
export function contextLine(view: NudgeView): string {
  let facts: Record<string, unknown> = {};
  try {
    facts = JSON.parse(view.facts) as Record<string, unknown>;
  } catch {
    // Facts are written by the planner; a damaged row only loses the context line.
  }
  const parts = [`Owner: ${view.ownerSlackId === null ? "none" : mention(view.ownerSlackId)}`];
  if (view.segment) parts.push(`Segment: ${escapeMrkdwn(view.segment)}`);
  if (view.tier) parts.push(`Tier: ${escapeMrkdwn(view.tier)}`);
  if (facts.neverTouched === true) parts.push("Last touch: never");
  else if (typeof facts.daysSinceLastTouch === "number") parts.push(`Last touch: ${days(facts.daysSinceLastTouch)} ago`);
  if (typeof facts.npsLatest === "number") parts.push(`NPS: ${facts.npsLatest}`);
  return parts.join("  ·  ");
}

export function nudgeButtons(view: NudgeView): KnownBlock {
  const value = encodeRef(view.nudgeId);
  return {
    type: "actions",
    block_id: `nudge_${view.nudgeId}`,
    elements: [
      { type: "button", action_id: ACTION.logTouch, text: { type: "plain_text", text: "Log touch" }, style: "primary", value },
      {
        type: "static_select",
        action_id: ACTION.snooze,
        placeholder: { type: "plain_text", text: "Snooze" },
        options: SNOOZE_DAYS.map((d) => ({ text: { type: "plain_text", text: `${d} days` }, value: `${view.nudgeId}:${d}` })),
      },
      { type: "button", action_id: ACTION.dismiss, text: { type: "plain_text", text: "Dismiss" }, value },
      // A customer nobody owns (its nudge is in the fallback channel): the first click makes the clicker the owner.
      ...(view.ownerSlackId === null
        ? [{ type: "button" as const, action_id: ACTION.claim, text: { type: "plain_text" as const, text: "I'll take it" }, value }]
        : []),
    ],
  };
}

const isLive = (view: NudgeView) => view.status === "open";

/** The rule's message, escaped; `{{owner}}` (rendered `<@owner>` at planning) stays a mention of the customer's owner. */
const ruleMessage = (view: NudgeView): string => escapeKeepingMentions(view.message, [view.ownerSlackId]);

/** One nudge: who, why, context, and either the buttons or what happened to it. */
export function nudgeBlocks(view: NudgeView): KnownBlock[] {
  const priority = PRIORITY[view.priority] ?? String(view.priority);
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `:bell: *${escapeMrkdwn(view.customerName)}* (${escapeMrkdwn(view.customerExternalId)})  ·  ${priority} priority\n${ruleMessage(view)}`,
          2900,
        ),
      },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Why:* ${escapeMrkdwn(view.explanation)}${view.action ? `\n*Next step:* ${escapeMrkdwn(view.action)}` : ""}`, 2900) },
    },
    { type: "context", elements: [{ type: "mrkdwn", text: clip(contextLine(view), 2900) }] },
  ];
  if (view.claimedBy !== null) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `:raising_hand: ${mention(view.claimedBy)} took it` }] });
  blocks.push(isLive(view) ? nudgeButtons(view) : stateBlock(view));
  return blocks;
}

function stateBlock(view: NudgeView): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text: clip(slackStateLine(view), 2900) } };
}

/** Compact form for digests and App Home: one section per nudge plus its buttons or state. */
export function compactNudgeBlocks(view: NudgeView): KnownBlock[] {
  return [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `*${escapeMrkdwn(view.customerName)}* (${escapeMrkdwn(view.customerExternalId)})\n${escapeMrkdwn(view.explanation)}\n_${contextLine(view)}_`,
          2900,
        ),
      },
    },
    isLive(view) ? nudgeButtons(view) : stateBlock(view),
  ];
}

export const MAX_DIGEST = 12;

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

/** The message for one or several nudges sent together (a digest when several). */
export function renderMessage(views: NudgeView[]): RenderedMessage {
  const [first] = views;
  if (first === undefined) return { text: "keepwarm", blocks: [] };
  if (views.length === 1) {
    const state = isLive(first) ? "" : ` — ${slackStateLine(first)}`;
    // The notification text (push, screen readers, the channel list) is Slack text too: escaped like the blocks.
    return { text: clip(`${escapeMrkdwn(first.customerName)}: ${escapeMrkdwn(first.explanation)}${state}`, 3000), blocks: nudgeBlocks(first) };
  }
  const open = views.filter(isLive).length;
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: clip(`${views.length} customers need attention`, 150) } },
    { type: "context", elements: [{ type: "mrkdwn", text: `${open} of ${views.length} still open` }] },
  ];
  for (const view of views) blocks.push({ type: "divider" }, ...compactNudgeBlocks(view));
  return { text: `keepwarm digest: ${views.length} customers need attention (${open} open)`, blocks };
}
