import type { RuleDiff, RulePreview, RulePreviewEntry } from "@keepwarm/core";
import type { types } from "@slack/bolt";
import { clip, escapeMrkdwn, mention } from "../slack-text";

type ModalView = types.ModalView;
type KnownBlock = types.KnownBlock;

export const RULES_CONFIRM_VIEW = "rules_edit_confirm";
export const RULES_EDIT_BACK = "rules_edit_back";

/** Slack allows 100 blocks per view and 3000 characters per section. */
const SECTION_MAX = 2900;
const MAX_RULE_SECTIONS = 30;
const SAMPLES = 3;

const MARK = { added: "+", removed: "−", changed: "~", unchanged: "=" } as const;

/** The per-rule preview line shared by the confirmation view and the announcement: "no-contact (changed): 3 → 5 customers (+2, −0)". */
export function previewLine(entry: Pick<RulePreviewEntry, "ruleId" | "status" | "before" | "after" | "addedCount" | "removedCount">): string {
  const moves = entry.addedCount + entry.removedCount > 0 ? ` (+${entry.addedCount}, −${entry.removedCount})` : "";
  return `${entry.ruleId} (${entry.status}): ${entry.before} → ${entry.after} customers${moves}`;
}

function ruleLines(entry: RulePreviewEntry, diff: RuleDiff): string {
  const head = `${MARK[entry.status]} \`${escapeMrkdwn(previewLine(entry))}\``;
  const lines = [head];
  const changes = diff.rules.find((r) => r.ruleId === entry.ruleId)?.changes ?? [];
  for (const change of changes.slice(0, 4)) {
    lines.push(`      ${escapeMrkdwn(clip(`${change.path}: ${short(change.before)} → ${short(change.after)}`, 160))}`);
  }
  if (changes.length > 4) lines.push(`      …and ${changes.length - 4} more changes`);
  const names = (list: Array<{ name: string }>, count: number) =>
    `${list
      .slice(0, SAMPLES)
      .map((c) => escapeMrkdwn(clip(c.name, 60)))
      .join(", ")}${count > SAMPLES ? `, …${count - SAMPLES} more` : ""}`;
  if (entry.addedCount > 0) lines.push(`      added: ${names(entry.added, entry.addedCount)}`);
  if (entry.removedCount > 0) lines.push(`      removed: ${names(entry.removed, entry.removedCount)}`);
  return lines.join("\n");
}

function short(value: unknown): string {
  if (value === undefined) return "(none)";
  return clip(JSON.stringify(value), 60);
}

/** Pack lines into as few sections as the limits allow. */
function sections(lines: string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = "";
  for (const line of lines) {
    const piece = clip(line, SECTION_MAX);
    if (current !== "" && current.length + 1 + piece.length > SECTION_MAX) {
      blocks.push({ type: "section", text: { type: "mrkdwn", text: current } });
      current = "";
    }
    current = current === "" ? piece : `${current}\n${piece}`;
  }
  if (current !== "") blocks.push({ type: "section", text: { type: "mrkdwn", text: current } });
  return blocks;
}

const backButton = (draftId: string, text = "Back to editing"): KnownBlock => ({
  type: "actions",
  block_id: "rules_edit_back",
  elements: [{ type: "button", action_id: RULES_EDIT_BACK, value: draftId, text: { type: "plain_text", text } }],
});

/** Step 2 of a Slack edit: what would change, shown before anything is saved. */
export function rulesConfirmView(options: { draftId: string; baseVersion: number; summary: string; diff: RuleDiff; preview: RulePreview }): ModalView {
  const { preview, diff } = options;
  // Rules that change or move customers first; untouched ones after, so the top of the view is the review.
  const moved = (e: RulePreviewEntry) => e.status !== "unchanged" || e.addedCount + e.removedCount > 0;
  const ordered = [...preview.rules.filter(moved), ...preview.rules.filter((e) => !moved(e))];
  const lines = ordered.map((entry) => ruleLines(entry, diff));
  let ruleBlocks = sections(lines);
  if (ruleBlocks.length > MAX_RULE_SECTIONS) ruleBlocks = [...ruleBlocks.slice(0, MAX_RULE_SECTIONS), sections(["…more rules not shown"])[0] as KnownBlock];
  const against = options.baseVersion === 0 ? "no active rules" : `the active *v${options.baseVersion}*`;
  return {
    type: "modal",
    callback_id: RULES_CONFIRM_VIEW,
    private_metadata: JSON.stringify({ d: options.draftId }),
    title: { type: "plain_text", text: "Review rule change" },
    submit: { type: "plain_text", text: "Save as new version" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        block_id: "rules_summary",
        text: {
          type: "mrkdwn",
          text: clip(
            `The file is valid. Against ${against}: *${escapeMrkdwn(options.summary)}*.\nNothing is saved until you press *Save as new version*.`,
            SECTION_MAX,
          ),
        },
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `Customers matching on today's data (${preview.evaluated} evaluated), before → after, per rule:` }],
      },
      ...ruleBlocks,
      backButton(options.draftId),
    ],
  };
}

/** A message in place of the modal: refusals, expired drafts, conflicts, the saved result. */
export function rulesNoticeView(options: { title: string; text: string; backDraftId?: string }): ModalView {
  return {
    type: "modal",
    callback_id: "rules_edit_notice",
    title: { type: "plain_text", text: clip(options.title, 24) },
    close: { type: "plain_text", text: "Close" },
    blocks: [
      { type: "section", block_id: "rules_notice", text: { type: "mrkdwn", text: clip(options.text, SECTION_MAX) } },
      ...(options.backDraftId === undefined ? [] : [backButton(options.backDraftId, "Back to my JSON")]),
    ],
  };
}

/** The announcement of a saved change, from Slack or the CLI. */
export function ruleChangeAnnouncement(options: {
  /** A Slack user id (shown as a mention) or a CLI author name. */
  author: string;
  version: number;
  previousVersion: number | undefined;
  via: string;
  summary: string;
  preview?: Array<Pick<RulePreviewEntry, "ruleId" | "status" | "before" | "after" | "addedCount" | "removedCount">>;
}): string {
  const was = options.previousVersion === undefined ? "" : ` (was v${options.previousVersion})`;
  const lines = [`:scroll: ${mention(options.author)} saved rules *v${options.version}*${was} ${options.via}: ${escapeMrkdwn(options.summary)}.`];
  const shown = (options.preview ?? []).filter((e) => e.status !== "unchanged" || e.addedCount + e.removedCount > 0);
  if (shown.length > 0) lines.push("Matches today, before → after:", ...shown.slice(0, 25).map((e) => `• ${escapeMrkdwn(previewLine(e))}`));
  if (shown.length > 25) lines.push(`…and ${shown.length - 25} more rules`);
  return clip(lines.join("\n"), 3500);
}
