import { findCustomerById } from "@keepwarm/store";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { ACTION } from "../../blocks/nudge-message";
import { touchModal } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { openModalOrTell } from "../open-modal";
import { liveNudgeOrReply, tellActor } from "./reply";

/** Log touch on a nudge: the touch form, prefilled with the nudge's customer. */
export function registerLogTouchAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION.logTouch, async ({ ack, body, action, respond, client }) => {
    await ack();
    const view = await liveNudgeOrReply(body, respond, client, deps, action.value, " Log another touch with `/touch &lt;customer&gt;`.");
    if (view === undefined) return;
    const customer = await findCustomerById(deps.store.db, view.customerId);
    await openModalOrTell(
      client,
      deps,
      body.trigger_id,
      touchModal({ customer, today: deps.calendar.isoDate(deps.now()), metadata: JSON.stringify({ nudgeId: view.nudgeId, channel: null }) }),
      (text) => tellActor(body, respond, client, text),
    );
  });
}
