import type { types } from "@slack/bolt";
import type { NudgeView, QuietCustomer } from "../queries";
import { escapeMrkdwn } from "../slack-text";
import { compactNudgeBlocks } from "./nudge-message";

/** App Home: the user's open nudges (most urgent first, with their buttons) and quiet customers. */
export function homeView(nudges: NudgeView[], quiet: { rows: QuietCustomer[]; total: number }, totalOpen: number): types.HomeView {
  const blocks: types.KnownBlock[] = [{ type: "header", text: { type: "plain_text", text: `Your open nudges (${totalOpen})` } }];
  if (nudges.length === 0) blocks.push({ type: "section", text: { type: "mrkdwn", text: "Nothing to do: no open nudges. :tada:" } });
  for (const nudge of nudges) blocks.push({ type: "divider" }, ...compactNudgeBlocks(nudge));
  if (totalOpen > nudges.length) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `…and ${totalOpen - nudges.length} more` }] });
  blocks.push({ type: "header", text: { type: "plain_text", text: `Quiet customers (${quiet.total})` } });
  const lines = quiet.rows.map(
    (c) => `• *${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.externalId)}): ${c.daysQuiet === null ? "never touched" : `${c.daysQuiet} days since last touch`}`,
  );
  blocks.push({
    type: "section",
    text: { type: "mrkdwn", text: lines.length === 0 ? "None of your customers has gone quiet." : lines.join("\n").slice(0, 2900) },
  });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: "Log a touch with `/touch <customer> [kind] [date] [note]`" }] });
  return { type: "home", blocks };
}
