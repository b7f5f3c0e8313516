import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { dismissModal } from "../../blocks/modals";
import { ACTION } from "../../blocks/nudge-message";
import type { BotDeps } from "../../deps";
import { openModalOrTell } from "../open-modal";
import { liveNudgeOrReply, tellActor } from "./reply";

/** Dismiss asks for an optional reason in a modal; the submission dismisses. */
export function registerDismissAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION.dismiss, async ({ ack, body, action, respond, client }) => {
    await ack();
    const view = await liveNudgeOrReply(body, respond, client, deps, action.value);
    if (view === undefined) return;
    await openModalOrTell(
      client,
      deps,
      body.trigger_id,
      dismissModal({ customerName: view.customerName, metadata: JSON.stringify({ nudgeId: view.nudgeId }) }),
      (text) => tellActor(body, respond, client, text),
    );
  });
}
