import type { BlockAction, RespondFn, webApi } from "@slack/bolt";
import type { BotDeps } from "../../deps";
import { publishHome } from "../../home";

/**
 * Answer a button: an ephemeral line under a message, or a refreshed App Home when
 * the click came from there (Home has no response_url).
 */
export async function replyToAction(body: BlockAction, respond: RespondFn, client: webApi.WebClient, deps: BotDeps, text: string): Promise<void> {
  if (body.container?.type === "view" && body.view?.type === "home") {
    await publishHome(client, deps, body.user.id);
    return;
  }
  if (body.response_url !== undefined) await respond({ response_type: "ephemeral", replace_original: false, text });
}
