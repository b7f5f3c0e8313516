import type { App } from "@slack/bolt";
import { touchModal } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { TOUCH_USAGE, touchFromText } from "../../touch-flow";
import { openModalOrTell } from "../open-modal";
import { postToResponseUrl } from "./touch-respond";

/** /touch: acknowledged at once, answered ephemerally; alone it opens the form. */
export function registerTouchCommand(app: App, deps: BotDeps): void {
  app.command("/touch", async ({ command, ack, respond, client }) => {
    const text = typeof command.text === "string" ? command.text : "";
    const trimmed = text.trim();
    if (/^(help|-h|--help|\?)$/i.test(trimmed)) {
      await ack({ response_type: "ephemeral", text: TOUCH_USAGE });
      return;
    }
    await ack();
    if (trimmed === "") {
      await openModalOrTell(
        client,
        deps,
        command.trigger_id,
        touchModal({ today: deps.calendar.isoDate(deps.now()), metadata: JSON.stringify({ nudgeId: null, channel: command.channel_id ?? null }) }),
        (text) =>
          typeof command.response_url === "string" && command.response_url !== ""
            ? postToResponseUrl(command.response_url, { response_type: "ephemeral", text })
            : respond({ response_type: "ephemeral", text }),
      );
      return;
    }
    let reply: { text: string; blocks?: unknown[] };
    try {
      reply = await touchFromText(deps, text, command.user_id);
    } catch (error) {
      deps.logger.error(`/touch failed: ${(error as Error).message}`);
      reply = { text: ":warning: Something went wrong logging that touch; nothing was saved. Try again, or use `/touch` alone for the form." };
    }
    const answer = { response_type: "ephemeral", text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) };
    if (typeof command.response_url === "string" && command.response_url !== "") {
      await postToResponseUrl(command.response_url, answer).catch((error: Error) => deps.logger.warn(`/touch answer not delivered: ${error.message}`));
    } else {
      await respond(answer as never);
    }
  });
}
