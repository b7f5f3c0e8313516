import { personalRules, type RepPreferences, preferencesSummary, type RuleMode, WEEKDAYS } from "@keepwarm/core";
import type { Rule } from "@keepwarm/rules";
import type { types } from "@slack/bolt";
import { clip, escapeMrkdwn, mention, plainText } from "../slack-text";

export const PREFERENCES_VIEW = "preferences_modal";
export const PREFERENCES_ACTION = "preferences_open";
/** Block ids of the form; a rule's block is `rule:<id>` (the error keys of validatePreferences). */
export const PREFERENCE_BLOCK = {
  quietStart: "quiet_start",
  quietEnd: "quiet_end",
  quietDays: "quiet_days",
  dailyCap: "daily_cap",
  digestHour: "digest_hour",
} as const;
export const ruleBlock = (ruleId: string): string => `rule:${ruleId}`;

/** A modal holds at most 100 blocks: the other fields take 6, a few are left for notes. */
const MAX_RULES = 90;

const MODE_TEXT: Record<RuleMode, string> = { dm: "By DM", digest: "In my daily digest", off: "Not at all" };
const modeOption = (mode: RuleMode): types.PlainTextOption => ({ text: { type: "plain_text", text: MODE_TEXT[mode] }, value: mode });
const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;
const hourOption = (h: number): types.PlainTextOption => ({ text: { type: "plain_text", text: hh(h) }, value: String(h) });
const HOURS = Array.from({ length: 24 }, (_, h) => hourOption(h));
const dayOption = (d: number): types.PlainTextOption => ({ text: { type: "plain_text", text: WEEKDAYS[d - 1] ?? String(d) }, value: String(d) });

/**
 * The preferences form. A rule without `allowMute` offers no "Not at all": the option is
 * not there to pick (and a forged one is refused on submission all the same).
 */
export function preferencesModal(prefs: RepPreferences, rules: readonly Rule[], teamCap: number): types.ModalView {
  const mine = personalRules(rules);
  const blocks: types.KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `Times are in your Slack time zone: *${escapeMrkdwn(prefs.timeZone ?? "not known yet, the team's is used")}*. Nudges due in your quiet time wait and arrive when it ends; nothing is dropped.`,
      },
    },
  ];
  for (const rule of mine.slice(0, MAX_RULES)) {
    const modes: RuleMode[] = rule.nudge.allowMute ? ["dm", "digest", "off"] : ["dm", "digest"];
    const current = prefs.ruleModes[rule.id] ?? "dm";
    blocks.push({
      type: "input",
      block_id: ruleBlock(rule.id),
      label: plainText(rule.name, 2000),
      element: {
        type: "static_select",
        action_id: "mode",
        options: modes.map(modeOption),
        initial_option: modeOption(modes.includes(current) ? current : "dm"),
      },
    });
  }
  if (mine.length > MAX_RULES)
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: `…and ${mine.length - MAX_RULES} more rules, by DM (set them with \`keepwarm prefs set\`).` }],
    });
  const hourSelect = (blockId: string, label: string, initial: number | undefined, optional: boolean): types.KnownBlock => ({
    type: "input",
    block_id: blockId,
    optional,
    label: { type: "plain_text", text: label },
    element: { type: "static_select", action_id: "hour", options: HOURS, ...(initial === undefined ? {} : { initial_option: hourOption(initial) }) },
  });
  blocks.push(
    hourSelect(PREFERENCE_BLOCK.quietStart, "Quiet hours from", prefs.quietHours?.start, true),
    hourSelect(PREFERENCE_BLOCK.quietEnd, "Quiet hours until", prefs.quietHours?.end, true),
    {
      type: "input",
      block_id: PREFERENCE_BLOCK.quietDays,
      optional: true,
      label: { type: "plain_text", text: "Quiet all day on" },
      element: {
        type: "checkboxes",
        action_id: "days",
        options: [1, 2, 3, 4, 5, 6, 7].map(dayOption),
        ...(prefs.quietDays.length === 0 ? {} : { initial_options: prefs.quietDays.map(dayOption) }),
      },
    },
    {
      type: "input",
      block_id: PREFERENCE_BLOCK.dailyCap,
      optional: true,
      label: { type: "plain_text", text: `At most this many nudges by DM a day (the team's: ${teamCap})` },
      element: {
        type: "number_input",
        action_id: "cap",
        is_decimal_allowed: false,
        min_value: "0",
        max_value: String(teamCap),
        ...(prefs.dailyCap === null ? {} : { initial_value: String(prefs.dailyCap) }),
      },
    },
    hourSelect(PREFERENCE_BLOCK.digestHour, "Send my daily digest at", prefs.digestHour, false),
  );
  return {
    type: "modal",
    callback_id: PREFERENCES_VIEW,
    title: { type: "plain_text", text: "Your preferences" },
    submit: { type: "plain_text", text: "Save" },
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}

/** The App Home's "Your preferences" section: a summary and the button that opens the form. */
export function ownPreferencesBlocks(prefs: RepPreferences, rules: readonly Rule[], teamCap: number): types.KnownBlock[] {
  return [
    { type: "header", text: { type: "plain_text", text: "Your preferences" } },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(escapeMrkdwn(preferencesSummary(prefs, rules, teamCap)), 2900) },
      accessory: { type: "button", action_id: PREFERENCES_ACTION, text: { type: "plain_text", text: "Edit preferences" } },
    },
  ];
}

/** A lead's (or admin's) read-only list of their reps' preferences. */
export function teamPreferencesBlocks(team: readonly RepPreferences[], rules: readonly Rule[], teamCap: number, admin: boolean): types.KnownBlock[] {
  const lines = team.map((p) => `• ${mention(p.slackId)}: ${escapeMrkdwn(preferencesSummary(p, rules, teamCap))}`);
  return [
    { type: "header", text: { type: "plain_text", text: admin ? "Reps' preferences" : "Your team's preferences" } },
    {
      type: "section",
      text: { type: "mrkdwn", text: lines.length === 0 ? "No rep has set preferences yet." : clip(lines.join("\n"), 2900) },
    },
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `Read-only: each rep sets their own from their App Home. A personal cap is never above the team's ${teamCap}.` }],
    },
  ];
}
