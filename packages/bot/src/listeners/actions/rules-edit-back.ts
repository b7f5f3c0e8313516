import { getActiveRuleSet } from "@keepwarm/core";
import type { App, BlockButtonAction } from "@slack/bolt";
import { z } from "zod";
import { rulesEditModal, splitRuleText } from "../../blocks/modals";
import { RULES_EDIT_BACK, rulesNoticeView } from "../../blocks/rules-review";
import type { BotDeps } from "../../deps";
import { isAdmin } from "../commands/keepwarm";
import { EXPIRED_TEXT, NOT_ADMIN_TEXT } from "../views/rules-edit-confirm";
import type { RuleDrafts } from "../views/rules-edit-drafts";

const draftId = z.string().uuid();

/** "Back to editing": the editor again, holding the JSON that was previewed. */
export function registerRulesEditBackAction(app: App, deps: BotDeps, drafts: RuleDrafts): void {
  app.action<BlockButtonAction>(RULES_EDIT_BACK, async ({ ack, body, action, client }) => {
    await ack();
    const viewId = body.view?.id;
    if (viewId === undefined) return;
    const user = body.user.id;
    const id = draftId.safeParse(action.value);
    const draft = isAdmin(deps, user) && id.success ? drafts.get(id.data, user) : undefined;
    const parts = draft === undefined ? undefined : splitRuleText(draft.text);
    let view: ReturnType<typeof rulesEditModal> | ReturnType<typeof rulesNoticeView>;
    if (!isAdmin(deps, user)) view = rulesNoticeView({ title: "Not allowed", text: NOT_ADMIN_TEXT });
    else if (draft === undefined || parts === undefined) view = rulesNoticeView({ title: "Preview expired", text: EXPIRED_TEXT });
    else {
      // The editor names the version active NOW, which a concurrent change may have moved.
      const active = await getActiveRuleSet(deps.store);
      view = rulesEditModal({ version: active?.version ?? 0, parts });
    }
    try {
      await client.views.update({ view_id: viewId, ...(body.view?.hash ? { hash: body.view.hash } : {}), view });
      // The resubmitted editor makes a fresh draft against the then-active version.
      if (draft !== undefined && parts !== undefined) drafts.delete(draft.id);
    } catch (error) {
      deps.logger.warn(`rules edit: back to editor failed: ${(error as Error).message}`);
    }
  });
}
