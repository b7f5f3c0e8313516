import { snoozeNudge, UserError } from "@keepwarm/core";
import { nudgeView } from "@keepwarm/store";
import type { App, BlockAction, StaticSelectAction } from "@slack/bolt";
import { ACTION } from "../../blocks/nudge-message";
import type { BotDeps } from "../../deps";
import { snoozeChoice } from "../../payloads";
import { mayAccess, NOT_YOURS_TEXT, viewerOf } from "../../security/access";
import { escapeMrkdwn, slackStateLine } from "../../slack-text";
import { replyToAction } from "./reply";

export function registerSnoozeAction(app: App, deps: BotDeps): void {
  app.action<BlockAction<StaticSelectAction>>(ACTION.snooze, async ({ ack, body, action, respond, client }) => {
    await ack();
    const choice = snoozeChoice.safeParse(action.selected_option?.value);
    if (!choice.success) {
      await replyToAction(body, respond, client, deps, ":warning: That snooze choice is not valid.");
      return;
    }
    const target = await nudgeView(deps.store.db, choice.data.nudgeId);
    if (target !== undefined && !mayAccess(viewerOf(deps.env, body.user.id), target.ownerSlackId)) {
      await replyToAction(body, respond, client, deps, NOT_YOURS_TEXT);
      return;
    }
    let text: string;
    try {
      const result = await snoozeNudge(deps.store, choice.data.nudgeId, choice.data.days, body.user.id, deps.now(), deps.calendar);
      if (result.ok) {
        deps.kickDelivery();
        text = `:zzz: Snoozed for ${choice.data.days} days.`;
      } else if (result.reason === "not_found") {
        text = ":warning: That nudge no longer exists.";
      } else {
        const view = await nudgeView(deps.store.db, choice.data.nudgeId);
        text = `This nudge is already closed${view ? `: ${slackStateLine(view)}` : ""}.`;
      }
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      text = `:warning: ${escapeMrkdwn(error.message)}`;
    }
    await replyToAction(body, respond, client, deps, text);
  });
}
