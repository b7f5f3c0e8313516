import type { App } from "@slack/bolt";
import type { BotDeps } from "../deps";
import { registerChooseCustomerAction } from "./actions/choose-customer";
import { registerClaimAction } from "./actions/claim";
import { registerDismissAction } from "./actions/dismiss";
import { registerLogTouchAction } from "./actions/log-touch";
import { registerPreferencesOpenAction } from "./actions/preferences-open";
import { registerRulesEditBackAction } from "./actions/rules-edit-back";
import { registerSnoozeAction } from "./actions/snooze";
import { registerKeepwarmCommand } from "./commands/keepwarm";
import { registerTouchCommand } from "./commands/touch";
import { registerAppHomeOpened } from "./events/app-home-opened";
import { registerCustomerSearch } from "./options/customer-search";
import { registerDismissModalSubmission } from "./views/dismiss-modal";
import { registerPreferencesSubmission } from "./views/preferences-modal";
import { registerRulesEditSubmission } from "./views/rules-edit";
import { registerRulesConfirmSubmission } from "./views/rules-edit-confirm";
import { RuleDrafts } from "./views/rules-edit-drafts";
import { registerTouchModalSubmission } from "./views/touch-modal";

/** Every Slack listener, registered in one place. */
export function registerListeners(app: App, deps: BotDeps): void {
  registerTouchCommand(app, deps);
  registerKeepwarmCommand(app, deps);
  registerLogTouchAction(app, deps);
  registerSnoozeAction(app, deps);
  registerDismissAction(app, deps);
  registerClaimAction(app, deps);
  registerChooseCustomerAction(app, deps);
  registerTouchModalSubmission(app, deps);
  registerDismissModalSubmission(app, deps);
  const ruleDrafts = new RuleDrafts(deps.now);
  registerRulesEditSubmission(app, deps, ruleDrafts);
  registerRulesConfirmSubmission(app, deps, ruleDrafts);
  registerRulesEditBackAction(app, deps, ruleDrafts);
  registerCustomerSearch(app, deps);
  registerAppHomeOpened(app, deps);
  registerPreferencesOpenAction(app, deps);
  registerPreferencesSubmission(app, deps);
}
