import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { PREFERENCES_ACTION, preferencesModal } from "../../blocks/preferences";
import type { BotDeps } from "../../deps";
import { ownPreferences } from "../../preferences-home";
import { openModalOrTell } from "../open-modal";
import { tellActor } from "./reply";

/** "Edit preferences" on the App Home: the form, filled with what the user chose before. */
export function registerPreferencesOpenAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(PREFERENCES_ACTION, async ({ ack, body, respond, client }) => {
    await ack();
    const { prefs, rules } = await ownPreferences(client, deps, body.user.id);
    await openModalOrTell(client, deps, body.trigger_id, preferencesModal(prefs, rules, deps.env.KEEPWARM_MAX_NUDGES_PER_DAY), (text) =>
      tellActor(body, respond, client, text),
    );
  });
}
