import type { webApi } from "@slack/bolt";
import type { BotDeps } from "../deps";
import { escapeMrkdwn } from "../slack-text";

type ModalView = Parameters<webApi.WebClient["views"]["open"]>[0] extends infer A ? (A extends { view: infer V } ? V : never) : never;

/** What the user reads when a form cannot open: Slack's reason, and what to do. */
export function modalFailedText(code: string): string {
  return code === "expired_trigger_id"
    ? ":warning: The form could not open: Slack allows 3 seconds to open it and that time ran out. Please try again."
    : `:warning: The form could not open (Slack said \`${escapeMrkdwn(code)}\`). Please try again.`;
}

/**
 * Open a modal, or tell the user why it did not open (an expired trigger after a slow
 * answer, a Slack error): a click that shows nothing looks broken. `tell` answers where
 * the request came from (an ephemeral line, a DM from the App Home).
 */
export async function openModalOrTell(
  client: webApi.WebClient,
  deps: Pick<BotDeps, "logger">,
  triggerId: string,
  view: ModalView,
  tell: (text: string) => Promise<unknown>,
): Promise<boolean> {
  try {
    await client.views.open({ trigger_id: triggerId, view });
    return true;
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
    deps.logger.warn(`views.open failed: ${code}`);
    await tell(modalFailedText(code)).catch((e: Error) => deps.logger.warn(`could not tell the user: ${e.message}`));
    return false;
  }
}
