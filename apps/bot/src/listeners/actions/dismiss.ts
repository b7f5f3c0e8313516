import { stateLine } from "@keepwarm/core";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { dismissModal } from "../../blocks/modals";
import { ACTION } from "../../blocks/nudge-message";
import type { BotDeps } from "../../deps";
import { nudgeRef, parseJson } from "../../payloads";
import { nudgeView } from "../../queries";
import { mention } from "../../slack-text";
import { replyToAction } from "./reply";

/** Dismiss asks for an optional reason in a modal; the submission dismisses. */
export function registerDismissAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION.dismiss, async ({ ack, body, action, respond, client }) => {
    await ack();
    const ref = parseJson(nudgeRef, action.value);
    const view = ref === undefined ? undefined : nudgeView(deps.store, ref.n);
    if (view === undefined) {
      await replyToAction(body, respond, client, deps, ":warning: That nudge no longer exists.");
      return;
    }
    if (view.status !== "open" && view.status !== "snoozed") {
      await replyToAction(body, respond, client, deps, `This nudge is already closed: ${stateLine(view, mention)}.`);
      return;
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: dismissModal({ customerName: view.customerName, metadata: JSON.stringify({ nudgeId: view.nudgeId }) }),
    });
  });
}
