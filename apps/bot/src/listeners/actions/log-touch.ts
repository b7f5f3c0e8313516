import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { stateLine } from "@keepwarm/core";
import { ACTION } from "../../blocks/nudge-message";
import { touchModal } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { nudgeRef, parseJson } from "../../payloads";
import { nudgeView } from "../../queries";
import { mention } from "../../slack-text";
import { replyToAction } from "./reply";

/** Log touch on a nudge: the touch form, prefilled with the nudge's customer. */
export function registerLogTouchAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION.logTouch, async ({ ack, body, action, respond, client }) => {
    await ack();
    const ref = parseJson(nudgeRef, action.value);
    const view = ref === undefined ? undefined : nudgeView(deps.store, ref.n);
    if (view === undefined) {
      await replyToAction(body, respond, client, deps, ":warning: That nudge no longer exists.");
      return;
    }
    if (view.status !== "open") {
      await replyToAction(
        body,
        respond,
        client,
        deps,
        `This nudge is already closed: ${stateLine(view, mention)}. Log another touch with \`/touch ${view.customerExternalId}\`.`,
      );
      return;
    }
    const customer = deps.store.sqlite.prepare("SELECT * FROM customers WHERE id = ?").get(view.customerId) as import("@keepwarm/store").Customer | undefined;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: touchModal({ customer, today: deps.calendar.isoDate(deps.now()), metadata: JSON.stringify({ nudgeId: view.nudgeId, channel: null }) }),
    });
  });
}
