import type { NudgeView } from "@keepwarm/core";
import { nudgeView } from "@keepwarm/store";
import type { BlockAction, RespondFn, webApi } from "@slack/bolt";
import type { BotDeps } from "../../deps";
import { publishHome } from "../../home";
import { nudgeRef, parseJson } from "../../payloads";
import { mayAccess, NOT_YOURS_TEXT, viewerOf } from "../../security/access";
import { slackStateLine } from "../../slack-text";

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

/** Tell the clicking user something that is not a state change: an ephemeral line, or a DM when the click came from the App Home. */
export async function tellActor(body: BlockAction, respond: RespondFn, client: webApi.WebClient, text: string): Promise<void> {
  if (body.response_url !== undefined) await respond({ response_type: "ephemeral", replace_original: false, text });
  else await client.chat.postMessage({ channel: body.user.id, text });
}

/**
 * The live (open or snoozed) nudge a button names; otherwise tells the user why not
 * (gone, or already closed and by whom) and returns undefined.
 */
export async function liveNudgeOrReply(
  body: BlockAction,
  respond: RespondFn,
  client: webApi.WebClient,
  deps: BotDeps,
  buttonValue: string | undefined,
  closedHint = "",
): Promise<NudgeView | undefined> {
  const ref = parseJson(nudgeRef, buttonValue);
  const view = ref === undefined ? undefined : await nudgeView(deps.store.db, ref.n);
  if (view === undefined) {
    await replyToAction(body, respond, client, deps, ":warning: That nudge no longer exists.");
    return undefined;
  }
  if (!mayAccess(viewerOf(deps.env, body.user.id), view.ownerSlackId)) {
    await replyToAction(body, respond, client, deps, NOT_YOURS_TEXT);
    return undefined;
  }
  if (view.status !== "open" && view.status !== "snoozed") {
    await replyToAction(body, respond, client, deps, `This nudge is already closed: ${slackStateLine(view)}.${closedHint}`);
    return undefined;
  }
  return view;
}
