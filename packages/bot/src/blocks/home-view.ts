import type { NpsStats, RetentionRow } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import type { NudgeView } from "@keepwarm/core";
import type { BasicStats, QuietCustomer } from "../queries";
import { clip, days, escapeMrkdwn } from "../slack-text";
import { compactNudgeBlocks } from "./nudge-message";
import { npsLine, retentionLine } from "./stats-view";

export interface HomeExtras {
  /** Open nudges not sent by DM yet (over the daily budget, or about to be delivered). */
  waiting: number;
  maxPerDay: number;
  kpis: { mine: BasicStats; nps: NpsStats; retention: RetentionRow; days: number };
}

/** App Home: the user's open nudges (most urgent first, with their buttons), quiet customers and a few KPIs. */
export function homeView(nudges: NudgeView[], quiet: { rows: QuietCustomer[]; total: number }, totalOpen: number, extras?: HomeExtras): types.HomeView {
  const blocks: types.KnownBlock[] = [{ type: "header", text: { type: "plain_text", text: `Your open nudges (${totalOpen})` } }];
  if (extras !== undefined && extras.waiting > 0) {
    const n = extras.waiting;
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `:hourglass_flowing_sand: waiting: ${n} more nudge${n === 1 ? "" : "s"} not sent by DM yet (at most ${extras.maxPerDay} a day reach your DMs; the rest arrive on later days). They are listed here already.`,
        },
      ],
    });
  }
  if (nudges.length === 0) blocks.push({ type: "section", text: { type: "mrkdwn", text: "Nothing to do: no open nudges. :tada:" } });
  for (const nudge of nudges) blocks.push({ type: "divider" }, ...compactNudgeBlocks(nudge));
  if (totalOpen > nudges.length) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `…and ${totalOpen - nudges.length} more` }] });
  blocks.push({ type: "header", text: { type: "plain_text", text: `Quiet customers (${quiet.total})` } });
  const lines = quiet.rows.map(
    (c) => `• *${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.externalId)}): ${c.daysQuiet === null ? "never touched" : `${days(c.daysQuiet)} since last touch`}`,
  );
  blocks.push({
    type: "section",
    text: { type: "mrkdwn", text: lines.length === 0 ? "None of your customers has gone quiet." : clip(lines.join("\n"), 2900) },
  });
  if (extras !== undefined) {
    const { mine, nps, retention, days } = extras.kpis;
    blocks.push({ type: "header", text: { type: "plain_text", text: "Numbers" } });
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: [
          `• Your touches this week: *${mine.touchesThisWeek}*  ·  your open nudges: *${mine.openNudges}*`,
          `• Team ${npsLine(nps.now, nps.windowDays)}`,
          `• Team ${retentionLine(retention).replace(/^Retention/, `retention, last ${days} days`)}`,
        ].join("\n"),
      },
    });
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: "`/keepwarm stats`: the nudge funnel and whether the nudges work (holdouts)" }] });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: "Log a touch with `/touch &lt;customer&gt; [kind] [date] [note]`" }] });
  return { type: "home", blocks };
}
