import { diffRuleFiles, diffSummary, getActiveRuleSet, previewRuleSet } from "@keepwarm/core";
import { formatError, validateRuleFileText } from "@keepwarm/rules";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { RULES_MAX_PARTS, VIEW } from "../../blocks/modals";
import { rulesConfirmView } from "../../blocks/rules-review";
import type { BotDeps } from "../../deps";
import { parseJson } from "../../payloads";
import { isAdmin } from "../commands/keepwarm";
import type { RuleDrafts } from "./rules-edit-drafts";

const meta = z.object({ parts: z.number().int().min(1).max(RULES_MAX_PARTS) });
const part = z.object({ json: z.object({ value: z.string().max(3000).nullish() }) });

const inModal = (message: string) => ({ response_action: "errors" as const, errors: { rules_part_0: message.slice(0, 2000) } });

/** The rule file as typed: the input boxes, in order, joined by the newlines they were split at. */
function submittedText(privateMetadata: string, values: Record<string, unknown>): string {
  const parts = parseJson(meta, privateMetadata)?.parts ?? 1;
  return Array.from({ length: parts }, (_, i) => {
    const field = part.safeParse(values[`rules_part_${i}`]);
    return field.success ? (field.data.json.value ?? "") : "";
  }).join("\n");
}

const canonical = (json: string) => JSON.stringify(JSON.parse(json));

/**
 * Step 1 of a Slack edit: validate (errors in the modal), then replace the modal with
 * the diff and preview counts. Nothing is saved here; the candidate waits in `drafts`.
 */
export function registerRulesEditSubmission(app: App, deps: BotDeps, drafts: RuleDrafts): void {
  app.view(VIEW.rulesEdit, async ({ ack, body, view }) => {
    const user = body.user.id;
    if (!isAdmin(deps, user)) {
      await ack(inModal("Only KEEPWARM_ADMINS can change rules, sorry. Nothing was saved."));
      return;
    }
    const text = submittedText(view.private_metadata, view.state.values);
    const result = validateRuleFileText(text);
    if (!result.valid) {
      const shown = result.errors.slice(0, 5).map(formatError);
      if (result.errors.length > 5) shown.push(`…and ${result.errors.length - 5} more`);
      await ack(inModal(shown.join("\n")));
      return;
    }
    let active: Awaited<ReturnType<typeof getActiveRuleSet>>;
    let preview: Awaited<ReturnType<typeof previewRuleSet>>;
    try {
      active = await getActiveRuleSet(deps.store);
      if (active !== undefined && canonical(active.json) === canonical(text)) {
        await ack(inModal(`Nothing to save: this is exactly the active version v${active.version}.`));
        return;
      }
      // Runs inside Slack's 3-second window for view_submission; preview is one bulk scan per rule set.
      preview = await previewRuleSet(deps.store, result.ruleFile, { calendar: deps.calendar, now: deps.now(), sampleSize: 3 });
    } catch (error) {
      deps.logger.error(`rules edit: preview failed: ${(error as Error).message}`);
      await ack(inModal("The preview could not be computed; nothing was saved. Try again, or use `keepwarm rules preview` on the CLI."));
      return;
    }
    const diff = diffRuleFiles(active?.ruleFile, result.ruleFile);
    const summary = diffSummary(diff);
    const baseVersion = active?.version ?? 0;
    const draft = drafts.add({ user, text, baseVersion, summary, preview: preview.rules });
    await ack({ response_action: "update", view: rulesConfirmView({ draftId: draft.id, baseVersion, summary, diff, preview }) });
  });
}
