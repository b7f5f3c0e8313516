import { finishTouchText, logTouch, parseTouchText, type TouchTextResult, UserError } from "@keepwarm/core";
import type { Customer } from "@keepwarm/store";
import type { types } from "@slack/bolt";
import type { BotDeps } from "./deps";
import { clip, escapeMrkdwn, plainCommandText } from "./slack-text";

export const CHOOSE_CUSTOMER = "touch_choose_customer";
const BUTTON_VALUE_MAX = 2000;

export interface Reply {
  text: string;
  blocks?: types.KnownBlock[];
}

export const TOUCH_USAGE = [
  "*Log a touch:* `/touch <customer> [kind] [date] [note…]`",
  "• `/touch Acme Corp call yesterday renewal looks safe`",
  '• `/touch C-1042 email` · `/touch "Call Center Inc" meeting 2026-11-20`',
  "Kinds: call, email, meeting, visit, chat, other (default: other). Dates: today (default), yesterday, or YYYY-MM-DD; never in the future.",
  "`/touch` alone opens a form.",
].join("\n");

const describeCustomer = (c: Customer) => `*${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.external_id)})`;

/** Log the touch a parse produced and say what happened; every failure becomes a sentence. */
export async function answerTouch(deps: BotDeps, result: TouchTextResult, userId: string, source: "slack" | "modal"): Promise<Reply> {
  if (!result.ok) return explainFailure(result);
  try {
    const logged = await logTouch(deps.store, {
      customerId: result.customer.id,
      kind: result.kind,
      occurredAt: result.occurredAt,
      note: result.note,
      loggedBy: userId,
      source,
      now: deps.now(),
    });
    if (logged.resolved.length > 0) deps.kickDelivery();
    const day = deps.calendar.isoDate(result.occurredAt);
    const resolved = logged.resolved.length === 0 ? "" : ` Resolved ${logged.resolved.length} nudge${logged.resolved.length === 1 ? "" : "s"}.`;
    const note = result.note === null ? "" : `\n> ${escapeMrkdwn(clip(result.note, 500))}`;
    return { text: `:white_check_mark: Logged a ${result.kind} with ${describeCustomer(result.customer)} on ${day}.${resolved}${note}` };
  } catch (error) {
    if (error instanceof UserError) return { text: `:warning: ${escapeMrkdwn(error.message)}` };
    throw error;
  }
}

function explainFailure(result: Exclude<TouchTextResult, { ok: true }>): Reply {
  switch (result.error) {
    case "empty":
      return { text: TOUCH_USAGE };
    case "ambiguous": {
      const fits = result.rest.length <= BUTTON_VALUE_MAX - 50;
      const text = `"${escapeMrkdwn(clip(result.query, 100))}" matches ${result.candidates.length} customers. ${fits ? "Which one?" : "Use the customer's id to pick one:"}`;
      const buttons: types.Button[] = result.candidates.map((c) => ({
        type: "button",
        action_id: `${CHOOSE_CUSTOMER}_${c.id}`,
        text: { type: "plain_text", text: clip(`${c.name} (${c.external_id})`, 75) },
        value: JSON.stringify({ c: c.id, r: result.rest }),
      }));
      if (!fits) return { text: `${text}\n${result.candidates.map((c) => `• ${describeCustomer(c)}`).join("\n")}` };
      return {
        text,
        blocks: [
          { type: "section", text: { type: "mrkdwn", text } },
          { type: "actions", block_id: "touch_choose", elements: buttons },
        ],
      };
    }
    case "not_found": {
      const suggestions = result.suggestions.map((c) => `• ${describeCustomer(c)}`).join("\n");
      return {
        text: `:mag: No customer matches "${escapeMrkdwn(clip(result.query, 100))}".${suggestions ? `\nDid you mean:\n${suggestions}` : " Check the name or use the customer's id."}`,
      };
    }
    default:
      return { text: `:warning: ${escapeMrkdwn(result.message)}` };
  }
}

export async function touchFromText(deps: BotDeps, rawText: string, userId: string): Promise<Reply> {
  const text = plainCommandText(rawText);
  return answerTouch(deps, await parseTouchText(deps.store, text, deps.now(), deps.calendar), userId, "slack");
}

export async function touchAfterChoice(deps: BotDeps, customer: Customer, rest: string, userId: string): Promise<Reply> {
  return answerTouch(deps, finishTouchText(customer, rest, deps.now(), deps.calendar), userId, "slack");
}
