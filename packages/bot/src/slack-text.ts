import { stateLine } from "@keepwarm/core";
import { isSlackUserId, SLACK_USER_ID_SOURCE } from "@keepwarm/rules";

/**
 * The one way text gets into Slack. Every string that comes from data or from people
 * (customer names and ids, explanations, rule messages and names, notes, dismiss
 * reasons, "logged by", segments…) goes through `escapeMrkdwn` where the message is
 * built, in blocks and in the notification `text` alike, in mrkdwn and plain_text.
 * Slack gives `<…>` its meaning (`<!channel>`, `<@U…>`, `<https://…|label>`) only to
 * raw `<` and `>`: escaped, data can never form a ping or a link. The only `<…>` keepwarm
 * writes are mentions, built by `mention` from ids that pass `isSlackUserId`.
 */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** `<@U…>` for a valid Slack user id; anything else (a CLI author, a CSV "logged by") is shown as escaped text. */
export const mention = (user: string): string => (isSlackUserId(user) ? `<@${user}>` : escapeMrkdwn(user));

/**
 * Escaped text in which mentions of these users, and only these, stay mentions: a rule
 * message's `{{owner}}` renders `<@U…>` when the nudge is planned, and the owner is the
 * one id keepwarm knows belongs there. Invalid ids are ignored.
 */
export function escapeKeepingMentions(text: string, users: ReadonlyArray<string | null | undefined>): string {
  let escaped = escapeMrkdwn(text);
  for (const user of new Set(users)) {
    if (user && isSlackUserId(user)) escaped = escaped.replaceAll(`&lt;@${user}&gt;`, `<@${user}>`);
  }
  return escaped;
}

/** A plain_text object: escaped like mrkdwn (Slack decodes the three entities there too), clipped to Slack's limit. */
export const plainText = (text: string, max: number): { type: "plain_text"; text: string } => ({ type: "plain_text", text: clip(escapeMrkdwn(text), max) });

/** A nudge's closed/snoozed state for Slack: mentions for valid ids, everything else escaped. */
export const slackStateLine = (view: Parameters<typeof stateLine>[0]): string => stateLine(view, mention, escapeMrkdwn);

/** "1 day", "3 days". */
export const days = (n: number): string => `${n} ${n === 1 ? "day" : "days"}`;

/** "a call", "an email"; a touch of kind "other" is "a touch". */
export const touchWithArticle = (kind: string): string => (kind === "other" ? "a touch" : `${/^[aeiou]/i.test(kind) ? "an" : "a"} ${kind}`);

const MENTION_IN_COMMAND = new RegExp(`<@(${SLACK_USER_ID_SOURCE})(?:\\|([^>]*))?>`, "g");

/**
 * Slash-command text as a person typed it: Slack escapes &, < and > and wraps
 * mentions, channels and links in <…>; turn those back into plain words.
 */
export function plainCommandText(text: string): string {
  return text
    .replace(MENTION_IN_COMMAND, (_m, id: string, name?: string) => `@${name ?? id}`)
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!([a-z]+)(?:\|[^>]*)?>/g, "@$1")
    .replace(/<((?:mailto:|https?:)[^|>]*)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label ?? url.replace(/^mailto:/, ""))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The longest entity escapeMrkdwn writes is `&amp;`; the longest mention `<@` + 31 characters + `>`. */
const ENTITY_MAX = 5;
const MENTION_MAX = 2 + 31 + 1;

/**
 * Slack rejects text fields over their limits; cut with an ellipsis. Never inside an
 * entity (`&g…` would show as text, or worse, `&` + the rest of a cut entity), a
 * mention (`<@U12…`), or a surrogate pair.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const amp = text.lastIndexOf("&", cut - 1);
  if (amp !== -1 && cut - amp < ENTITY_MAX && !text.slice(amp, cut).includes(";")) cut = amp;
  const open = text.lastIndexOf("<", cut - 1);
  if (open !== -1 && cut - open < MENTION_MAX && !text.slice(open, cut).includes(">")) cut = open;
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}
