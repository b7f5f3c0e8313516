import { findCustomerById } from "@keepwarm/store";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { BotDeps } from "../../deps";
import { chooseCustomer, parseJson } from "../../payloads";
import { CHOOSE_CUSTOMER, touchAfterChoice } from "../../touch-flow";

/** A button under an ambiguous /touch: the chosen customer plus the rest of the original text. */
export function registerChooseCustomerAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(new RegExp(`^${CHOOSE_CUSTOMER}_\\d+$`), async ({ ack, body, action, respond }) => {
    await ack();
    const choice = parseJson(chooseCustomer, action.value);
    const customer = choice === undefined ? undefined : await findCustomerById(deps.store.db, choice.c);
    if (choice === undefined || customer === undefined) {
      await respond({ response_type: "ephemeral", replace_original: true, text: ":warning: That customer no longer exists; run /touch again." });
      return;
    }
    const reply = await touchAfterChoice(deps, customer, choice.r, body.user.id);
    await respond({ response_type: "ephemeral", replace_original: true, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) });
  });
}
