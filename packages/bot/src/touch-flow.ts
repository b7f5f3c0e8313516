import { finishTouchText, logTouch, parseTouchText, type TouchTextResult, UserError } from "@keepwarm/core";
import type { Customer } from "@keepwarm/store";
import type { types } from "@slack/bolt";
import type { BotDeps } from "./deps";
import { isStranger, mayAccess, STRANGER_TEXT, type Viewer, viewerOf, visibleCustomers } from "./security/access";
import { clip, escapeMrkdwn, plainCommandText, plainText, touchWithArticle } from "./slack-text";

export const CHOOSE_CUSTOMER = "touch_choose_customer";
const BUTTON_VALUE_MAX = 2000;

export interface Reply {
  text: string;
  blocks?: types.KnownBlock[];
}

export const TOUCH_USAGE = [
  "*Log a touch:* `/touch &lt;customer&gt; [kind] [date] [note…]`",
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
      calendar: deps.calendar,
    });
    if (logged.resolved.length > 0) deps.kickDelivery();
    const day = deps.calendar.isoDate(result.occurredAt);
    const resolved = logged.resolved.length === 0 ? "" : ` Resolved ${logged.resolved.length} nudge${logged.resolved.length === 1 ? "" : "s"}.`;
    // The note as written, line by line in the quote (Slack quotes one line per ">").
    const note = result.note === null ? "" : `\n${quoteLines(clip(escapeMrkdwn(result.note), 1500))}`;
    return { text: `:white_check_mark: Logged ${touchWithArticle(result.kind)} with ${describeCustomer(result.customer)} on ${day}.${resolved}${note}` };
  } catch (error) {
    if (error instanceof UserError) return { text: `:warning: ${escapeMrkdwn(error.message)}` };
    throw error;
  }
}

const quoteLines = (text: string): string =>
  text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");

function explainFailure(result: Exclude<TouchTextResult, { ok: true }>): Reply {
  switch (result.error) {
    case "empty":
      return { text: TOUCH_USAGE };
    case "ambiguous": {
      // The rest of the command travels in each button's value: it must fit Slack's 2000 characters as JSON.
      const value = (c: Customer) => JSON.stringify({ c: c.id, r: result.rest });
      const fits = result.candidates.every((c) => value(c).length <= BUTTON_VALUE_MAX);
      const text = `"${escapeMrkdwn(clip(result.query, 100))}" matches ${result.candidates.length} customers. ${fits ? "Which one?" : "Use the customer's id to pick one:"}`;
      const buttons: types.Button[] = result.candidates.map((c) => ({
        type: "button",
        action_id: `${CHOOSE_CUSTOMER}_${c.id}`,
        text: plainText(`${c.name} (${c.external_id})`, 75),
        value: value(c),
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

const NOT_YOURS: Reply = {
  text: ":mag: None of the customers you can log touches for (yours, your team's as a lead) matches that. Check the name, or use the customer's id.",
};

/**
 * The parse narrowed to customers the user may act on: another rep's customer answers
 * like none at all, candidates and suggestions are filtered, one candidate left is it.
 */
function visibleTouch(deps: BotDeps, viewer: Viewer, result: TouchTextResult): TouchTextResult | Reply {
  if (viewer.admin) return result;
  if (result.ok) return mayAccess(viewer, result.customer.owner_slack_id) ? result : NOT_YOURS;
  if (result.error === "not_found") return { ...result, suggestions: visibleCustomers(viewer, result.suggestions) };
  if (result.error !== "ambiguous") return result;
  const candidates = visibleCustomers(viewer, result.candidates);
  const [only] = candidates;
  if (candidates.length === 1 && only !== undefined) return finishTouchText(only, result.rest, deps.now(), deps.calendar);
  return candidates.length === 0 ? NOT_YOURS : { ...result, candidates };
}

export async function touchFromText(deps: BotDeps, rawText: string, userId: string): Promise<Reply> {
  const viewer = viewerOf(deps.env, userId);
  if (await isStranger(deps.store, viewer)) return { text: STRANGER_TEXT };
  const text = plainCommandText(rawText);
  const result = visibleTouch(deps, viewer, await parseTouchText(deps.store, text, deps.now(), deps.calendar));
  return "text" in result ? result : answerTouch(deps, result, userId, "slack");
}

export async function touchAfterChoice(deps: BotDeps, customer: Customer, rest: string, userId: string): Promise<Reply> {
  if (!mayAccess(viewerOf(deps.env, userId), customer.owner_slack_id)) return NOT_YOURS;
  return answerTouch(deps, finishTouchText(customer, rest, deps.now(), deps.calendar), userId, "slack");
}
