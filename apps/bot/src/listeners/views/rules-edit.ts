import { applyRuleSet, previewRuleSet, RuleValidationError } from "@keepwarm/core";
import { formatError, validateRuleFileText } from "@keepwarm/rules";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { RULES_MAX_PARTS, VIEW } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { parseJson } from "../../payloads";
import { isAdmin } from "../commands/keepwarm";

const meta = z.object({ parts: z.number().int().min(1).max(RULES_MAX_PARTS) });
const part = z.object({ json: z.object({ value: z.string().max(3000).nullish() }) });

/** A rule file edited in Slack: validated, errors shown in the modal, saved as a new version, announced. */
export function registerRulesEditSubmission(app: App, deps: BotDeps): void {
  app.view(VIEW.rulesEdit, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    if (!isAdmin(deps, user)) {
      await ack({ response_action: "errors", errors: { rules_part_0: "Only KEEPWARM_ADMINS can change rules." } });
      return;
    }
    const parts = parseJson(meta, view.private_metadata)?.parts ?? 1;
    const text = Array.from({ length: parts }, (_, i) => {
      const field = part.safeParse(view.state.values[`rules_part_${i}`]);
      return field.success ? (field.data.json.value ?? "") : "";
    }).join("\n");
    const result = validateRuleFileText(text);
    if (!result.valid) {
      const shown = result.errors.slice(0, 5).map(formatError);
      if (result.errors.length > 5) shown.push(`…and ${result.errors.length - 5} more`);
      await ack({ response_action: "errors", errors: { rules_part_0: shown.join("\n").slice(0, 2000) } });
      return;
    }
    let preview = "";
    try {
      const p = await previewRuleSet(deps.store, result.ruleFile, { calendar: deps.calendar, now: deps.now(), sampleSize: 0 });
      preview = p.rules.map((r) => `• ${r.ruleId} (${r.status}): ${r.before} → ${r.after} customers`).join("\n");
    } catch (error) {
      deps.logger.warn(`rules edit: preview failed: ${(error as Error).message}`);
    }
    try {
      const applied = await applyRuleSet(deps.store, text, { author: user, source: "slack", now: deps.now() });
      await ack();
      const headline = applied.changed
        ? `:scroll: <@${user}> saved rules *v${applied.ruleSet.version}* from Slack.`
        : `No change: the rules are identical to v${applied.ruleSet.version}.`;
      const announce = `${headline}${preview ? `\nMatches today, before → after:\n${preview}` : ""}`;
      await client.chat.postMessage({ channel: user, text: announce.slice(0, 3500) });
      if (applied.changed && deps.env.KEEPWARM_FALLBACK_CHANNEL) await client.chat.postMessage({ channel: deps.env.KEEPWARM_FALLBACK_CHANNEL, text: headline });
    } catch (error) {
      if (!(error instanceof RuleValidationError)) throw error;
      await ack({ response_action: "errors", errors: { rules_part_0: error.errors.slice(0, 5).map(formatError).join("\n") } });
    }
  });
}
