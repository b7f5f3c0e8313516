import { type NoiseReport, type NpsScore, percent, type RetentionRow, type Stats } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import type { BasicStats } from "../queries";
import { QUIET_DAYS } from "../queries";
import { clip, days, escapeMrkdwn } from "../slack-text";

type KnownBlock = types.KnownBlock;

const SECTION_MAX = 2900;

const signed = (x: number | null) => (x === null ? "—" : `${x > 0 ? "+" : ""}${x}`);

export const npsLine = (nps: NpsScore, windowDays: number): string =>
  nps.responses === 0
    ? `NPS now: *—* (no answers in the last ${windowDays} days)`
    : `NPS now: *${signed(nps.nps)}* (${nps.responses} answers in the last ${windowDays} days: ${nps.promoters} promoters, ${nps.passives} passives, ${nps.detractors} detractors)`;

export const retentionLine = (r: RetentionRow): string =>
  r.atStart === 0
    ? `Retention: *—* (no customers at the start of the period; ${r.new} new)`
    : `Retention: *${percent(r.retentionRate)}* ((${r.atEnd} at the end − ${r.new} new) ÷ ${r.atStart} at the start; ${r.churned} churned)`;

/** The personal (or, for someone who owns no customers, the team's) numbers of today. */
export function basicLines(basic: BasicStats, mine: boolean, isoDate: (ms: number) => string): string[] {
  return [
    `*${mine ? "Your" : "Team"} numbers*`,
    `• Quiet customers (${QUIET_DAYS}+ days): *${basic.quiet}*`,
    `• Touches this week (since ${isoDate(basic.weekStart)}): *${basic.touchesThisWeek}*`,
    `• Open nudges: *${basic.openNudges}*`,
  ];
}

/** Sections of at most SECTION_MAX characters, cut between lines (Slack rejects longer section text). */
function sections(lines: string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = "";
  for (const line of lines.map((l) => clip(l, SECTION_MAX))) {
    if (current !== "" && current.length + 1 + line.length > SECTION_MAX) {
      blocks.push({ type: "section", text: { type: "mrkdwn", text: current } });
      current = "";
    }
    current = current === "" ? line : `${current}\n${line}`;
  }
  if (current !== "") blocks.push({ type: "section", text: { type: "mrkdwn", text: current } });
  return blocks;
}

/** Rules flagged as mostly noise, with their evidence; `keepwarm rules suggest RULE` proposes a stricter threshold. */
export function noiseFlagLines(noise: NoiseReport): string[] {
  const flagged = noise.rules.filter((r) => r.flagged);
  if (flagged.length === 0) return ["• no rule is flagged as mostly noise"];
  return flagged.flatMap((r) => [
    `• :warning: \`${escapeMrkdwn(r.ruleId)}\` looks like noise (a tuning proposal: \`keepwarm rules suggest ${escapeMrkdwn(r.ruleId)}\`)`,
    ...r.evidence.map((e) => `    ◦ ${escapeMrkdwn(e)}`),
  ]);
}

/** `/keepwarm stats`: today's numbers, then the period's KPIs, the nudge funnel and the holdout comparison per rule. */
export function statsMessage(
  stats: Stats,
  basic: { stats: BasicStats; mine: boolean },
  isoDate: (ms: number) => string,
): { text: string; blocks: KnownBlock[] } {
  const groups: string[][] = [
    basicLines(basic.stats, basic.mine, isoDate),
    [
      `*Team, last ${stats.days} days* (${stats.from} → ${stats.to}${stats.segment === null ? "" : `, segment ${escapeMrkdwn(stats.segment)}`})`,
      `• ${npsLine(stats.nps.now, stats.nps.windowDays)}`,
      `• ${retentionLine(stats.retention.total)}`,
      `• Quiet customers (${stats.touchCadence.quietDays}+ days): *${stats.touchCadence.quiet}* of ${stats.touchCadence.customers}`,
    ],
    [
      "*Nudge funnel* (nudges created in the period)",
      ...(stats.funnel.length === 0
        ? ["• no nudges in this period"]
        : stats.funnel.map(
            (f) =>
              `• \`${escapeMrkdwn(f.ruleId)}\`: ${f.nudged} nudged${f.heldOut > 0 ? ` (+${f.heldOut} held out)` : ""} → ${f.delivered} delivered → ${f.resolvedByTouch} resolved by a touch · ${f.snoozed} snoozed · ${f.dismissed} dismissed · ${f.expired} expired · ${f.stillOpen} open · ${f.escalated} escalated · median ${f.medianDaysToTouch === null ? "—" : days(f.medianDaysToTouch)} to a touch`,
          )),
    ],
    [
      "*Do the nudges work?* (nudged vs held out)",
      ...(stats.holdouts.length === 0
        ? ['• no rule has a holdout group yet (set `"holdoutPercent"` in a rule\'s nudge)']
        : stats.holdouts.flatMap((h) => [
            `• \`${escapeMrkdwn(h.ruleId)}\` (${h.nudges.nudged} nudged, ${h.nudges.heldOut} held out)`,
            ...[h.touched7, h.touched14, h.churned, h.npsChange].map((c) => `    ◦ ${escapeMrkdwn(c.verdict)}`),
          ])),
    ],
    ...(stats.variants.length === 0
      ? []
      : [
          [
            "*Which message works better?* (A/B versions)",
            ...stats.variants.flatMap((v) => [
              `• \`${escapeMrkdwn(v.ruleId)}\` (${v.nudges.a} version a, ${v.nudges.b} version b)`,
              `    ◦ ${escapeMrkdwn(v.touched7.verdict)}`,
            ]),
          ],
        ]),
    ["*Noise* (rules whose nudges are mostly dismissed, put off or ignored)", ...noiseFlagLines(stats.noise)],
  ];
  const blocks: KnownBlock[] = [];
  for (const [i, group] of groups.entries()) {
    if (i > 0) blocks.push({ type: "divider" });
    blocks.push(...sections(group));
  }
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: "Everything, with intervals: `keepwarm stats` · charts: `keepwarm report --out report.html`" }],
  });
  return { text: groups.map((g) => g.join("\n")).join("\n\n"), blocks: blocks.slice(0, 50) };
}
