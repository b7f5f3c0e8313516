import { applyRuleSet, listRuleSetVersions, RuleSetConflictError, RuleValidationError } from "@keepwarm/core";
import { formatError } from "@keepwarm/rules";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { RULES_CONFIRM_VIEW, ruleChangeAnnouncement, rulesNoticeView } from "../../blocks/rules-review";
import type { BotDeps } from "../../deps";
import { parseJson } from "../../payloads";
import { escapeMrkdwn, mention } from "../../slack-text";
import { isAdmin } from "../commands/keepwarm";
import { announceRuleChange } from "./rules-edit-announce";
import { DRAFT_TTL_MS, type RuleDrafts } from "./rules-edit-drafts";

const confirmMeta = z.object({ d: z.string().uuid() });

export const NOT_ADMIN_TEXT = "Sorry, only keepwarm admins (KEEPWARM_ADMINS) can change rules. Nothing was saved.";
export const EXPIRED_TEXT = `This preview is no longer available: previews are kept for ${DRAFT_TTL_MS / 60_000} minutes and are lost when the bot restarts. Nothing was saved. Run \`/keepwarm rules edit\` again.`;

/**
 * Step 2 of a Slack edit: save the previewed candidate as a new version, only if the
 * user is still an admin and the active version is still the one the preview was
 * computed against; then announce it with its diff summary.
 */
export function registerRulesConfirmSubmission(app: App, deps: BotDeps, drafts: RuleDrafts): void {
  app.view(RULES_CONFIRM_VIEW, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const notice = (title: string, text: string, backDraftId?: string) =>
      ack({ response_action: "update", view: rulesNoticeView({ title, text, ...(backDraftId === undefined ? {} : { backDraftId }) }) });
    if (!isAdmin(deps, user)) {
      await notice("Not allowed", NOT_ADMIN_TEXT);
      return;
    }
    const draft = drafts.get(parseJson(confirmMeta, view.private_metadata)?.d, user);
    if (draft === undefined) {
      await notice("Preview expired", EXPIRED_TEXT);
      return;
    }
    const current = (await listRuleSetVersions(deps.store)).find((v) => v.active);
    if ((current?.version ?? 0) !== draft.baseVersion) {
      const by =
        current === undefined ? "" : ` (by ${mention(current.author)} via ${escapeMrkdwn(current.source)}, ${deps.calendar.isoDate(current.createdAt)})`;
      await notice(
        "Rules changed meanwhile",
        `The active rules changed while you were reviewing: you previewed against v${draft.baseVersion}, now v${current?.version ?? 0} is active${by}. Nothing was saved, so that change is not overwritten. Go back to your JSON and submit it again to review it against v${current?.version ?? 0}.`,
        draft.id,
      );
      return;
    }
    let saved: Awaited<ReturnType<typeof applyRuleSet>>;
    try {
      saved = await applyRuleSet(deps.store, draft.text, { author: user, source: "slack", now: deps.now(), expectedActiveVersion: draft.baseVersion });
    } catch (error) {
      if (error instanceof RuleSetConflictError) {
        await notice(
          "Rules changed meanwhile",
          `The active rules changed while you were reviewing: you previewed against v${error.expected}, now v${error.actual} is active. Nothing was saved. Go back to your JSON and submit it again to review it against v${error.actual}.`,
          draft.id,
        );
        return;
      }
      if (!(error instanceof RuleValidationError)) throw error;
      await notice(
        "Not saved",
        `The file no longer validates: ${escapeMrkdwn(error.errors.slice(0, 3).map(formatError).join("; "))}. Nothing was saved.`,
        draft.id,
      );
      return;
    }
    drafts.delete(draft.id);
    if (!saved.changed) {
      await notice("No change", `Nothing to save: the file is exactly the active version v${saved.ruleSet.version}.`);
      return;
    }
    const version = saved.ruleSet.version;
    await notice("Rules saved", `Saved as *v${version}* (was v${draft.baseVersion}): ${escapeMrkdwn(draft.summary)}. Admins are notified.`);
    const text = ruleChangeAnnouncement({
      author: user,
      version,
      previousVersion: draft.baseVersion === 0 ? undefined : draft.baseVersion,
      via: "from Slack",
      summary: draft.summary,
      preview: draft.preview,
    });
    await announceRuleChange(client, deps.env, text, (line) => deps.logger.warn(line));
  });
}
