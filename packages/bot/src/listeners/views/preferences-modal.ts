import { type PreferencesInput, savePreferences } from "@keepwarm/core";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { PREFERENCE_BLOCK, PREFERENCES_VIEW } from "../../blocks/preferences";
import type { BotDeps } from "../../deps";
import { publishHome } from "../../home";

const option = z.object({ value: z.string().max(100) });
const field = z.object({
  selected_option: option.nullish(),
  selected_options: z.array(option).max(20).nullish(),
  value: z.string().max(100).nullish(),
});
const stateValues = z.record(z.string().max(255), z.record(z.string().max(255), field)).refine((v) => Object.keys(v).length <= 120, "too many blocks");

/** A whole number from a form value; NaN (refused by validation) for anything else. */
const whole = (text: string | null | undefined): number | null =>
  text === null || text === undefined || text.trim() === "" ? null : /^-?\d{1,9}$/.test(text.trim()) ? Number(text) : Number.NaN;

/** The submitted state, read loosely: every value is checked by validatePreferences, never trusted because the form only offered it. */
function readInput(values: z.infer<typeof stateValues>): PreferencesInput {
  const first = (block: string) => Object.values(values[block] ?? {})[0];
  const ruleModes: Record<string, string> = {};
  for (const [block, actions] of Object.entries(values)) {
    if (!block.startsWith("rule:")) continue;
    const mode = Object.values(actions)[0]?.selected_option?.value;
    if (mode !== undefined) ruleModes[block.slice("rule:".length)] = mode;
  }
  return {
    ruleModes,
    quietStart: whole(first(PREFERENCE_BLOCK.quietStart)?.selected_option?.value),
    quietEnd: whole(first(PREFERENCE_BLOCK.quietEnd)?.selected_option?.value),
    quietDays: (first(PREFERENCE_BLOCK.quietDays)?.selected_options ?? []).map((o) => whole(o.value) ?? Number.NaN),
    dailyCap: whole(first(PREFERENCE_BLOCK.dailyCap)?.value),
    digestHour: whole(first(PREFERENCE_BLOCK.digestHour)?.selected_option?.value) ?? Number.NaN,
  };
}

/** Save the preferences form: errors shown in the form, field by field; nothing saved unless every field is right. */
export function registerPreferencesSubmission(app: App, deps: BotDeps): void {
  app.view(PREFERENCES_VIEW, async ({ ack, body, view, client }) => {
    const values = stateValues.safeParse(view.state.values);
    if (!values.success) {
      await ack({ response_action: "errors", errors: { [PREFERENCE_BLOCK.digestHour]: "This form could not be read; open it again from your App Home." } });
      return;
    }
    const saved = await savePreferences(deps.store, body.user.id, readInput(values.data), {
      teamCap: deps.env.KEEPWARM_MAX_NUDGES_PER_DAY,
      now: deps.now(),
      by: body.user.id,
    });
    if (!saved.ok) {
      await ack({ response_action: "errors", errors: saved.errors });
      return;
    }
    await ack();
    // Held nudges follow the new choices at the next pass; the Home shows them now.
    deps.kickDelivery();
    await publishHome(client, deps, body.user.id);
  });
}
