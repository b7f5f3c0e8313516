import { dismissNudge } from "@keepwarm/core";
import { nudgeView } from "@keepwarm/store";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { VIEW } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { dismissModalMeta, parseJson } from "../../payloads";
import { mayAccess, NOT_YOURS_TEXT, viewerOf } from "../../security/access";

const reasonField = z.object({ reason: z.object({ reason: z.object({ value: z.string().max(3000).nullish() }) }).optional() });

export function registerDismissModalSubmission(app: App, deps: BotDeps): void {
  app.view(VIEW.dismiss, async ({ ack, body, view }) => {
    const meta = parseJson(dismissModalMeta, view.private_metadata);
    const fields = reasonField.safeParse(view.state.values);
    if (meta === undefined) {
      await ack({ response_action: "errors", errors: { reason: "This form is out of date; use the nudge's Dismiss button again." } });
      return;
    }
    // The button checked who may dismiss; a submission can be forged, so check again.
    const target = await nudgeView(deps.store.db, meta.nudgeId);
    if (target !== undefined && !mayAccess(viewerOf(deps.env, body.user.id), target.ownerSlackId)) {
      await ack({ response_action: "errors", errors: { reason: NOT_YOURS_TEXT } });
      return;
    }
    const reason = fields.success ? (fields.data.reason?.reason.value ?? null) : null;
    const result = await dismissNudge(deps.store, meta.nudgeId, body.user.id, reason, deps.now(), deps.calendar);
    if (!result.ok) {
      await ack({
        response_action: "errors",
        errors: { reason: result.reason === "not_found" ? "That nudge no longer exists." : "That nudge is already closed." },
      });
      return;
    }
    await ack();
    deps.kickDelivery();
  });
}
