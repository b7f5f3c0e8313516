import { claimNudge } from "@keepwarm/core";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { ACTION } from "../../blocks/nudge-message";
import type { BotDeps } from "../../deps";
import { nudgeRef, parseJson } from "../../payloads";
import { mention } from "../../slack-text";
import { replyToAction } from "./reply";

/**
 * "I'll take it" on a nudge about an unowned customer (posted in the fallback channel).
 * Anyone who sees the channel may take it: the first click wins (the store decides,
 * atomically), the message is rewritten for everyone, the others are told who took it.
 */
export function registerClaimAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION.claim, async ({ ack, body, action, respond, client }) => {
    await ack();
    const ref = parseJson(nudgeRef, action.value);
    if (ref === undefined) {
      await replyToAction(body, respond, client, deps, ":warning: That nudge no longer exists.");
      return;
    }
    const result = await claimNudge(deps.store, ref.n, body.user.id, deps.now());
    let text: string;
    if (result.outcome === "claimed") {
      deps.kickDelivery();
      text = ":raising_hand: It's yours: you are now this customer's owner, and their next nudges come to you.";
    } else if (result.outcome === "taken") {
      const who = result.claimedBy ?? result.owner;
      text = who === body.user.id ? "You already own this customer." : `${who === null ? "Someone" : mention(who)} already took it.`;
    } else {
      text = ":warning: That nudge no longer exists.";
    }
    await replyToAction(body, respond, client, deps, text);
  });
}
