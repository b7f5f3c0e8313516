import { expect } from "vitest";

/**
 * A string an attacker would put in every field keepwarm shows: a channel ping, a
 * foreign mention, a user-group ping, a channel link, a disguised link, a mailto, a
 * pre-escaped ping, and mrkdwn that must stay text.
 */
export const HOSTILE =
  "<!channel> <!here|here> <@UEVIL0001> <!subteam^S0EVIL|@team> <#C0EVIL|general> <https://evil.example|Reset your password> <mailto:x@evil.example|mail> &lt;!everyone&gt; & *b*\n> q";

/** Keys whose strings Slack never renders as text (ids, values sent back to us, metadata). */
const NOT_SHOWN = new Set([
  "value",
  "initial_value",
  "private_metadata",
  "action_id",
  "block_id",
  "callback_id",
  "metadata",
  "trigger_id",
  "response_url",
  "channel",
  "ts",
  "user_id",
  "view_id",
  "hash",
  "initial_date",
  "type",
  "style",
  "response_type",
  "response_action",
  "token",
]);

/** Every string of a Slack payload (blocks, views, the notification text…) that Slack shows. */
export function shownStrings(node: unknown, key = "", out: string[] = []): string[] {
  if (typeof node === "string") {
    if (!NOT_SHOWN.has(key)) out.push(node);
  } else if (Array.isArray(node)) {
    for (const item of node) shownStrings(item, key, out);
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) shownStrings(v, k, out);
  }
  return out;
}

/**
 * Walk a whole payload: no `<!…>` (channel, here, everyone, user groups), no mention
 * other than of `allowedUsers` (ids keepwarm validated and put there), no `<http…|…>`
 * link, and no other raw `<` either: every `<…>` Slack would interpret is ours.
 */
export function expectNoInjection(payload: unknown, allowedUsers: readonly string[] = []): void {
  const strings = shownStrings(payload);
  expect(strings.length).toBeGreaterThan(0);
  for (const text of strings) {
    expect(text, text).not.toMatch(/<!/);
    expect(text, text).not.toMatch(/<https?:[^>]*\|/);
    for (const m of text.matchAll(/<@([^>|]*)/g)) expect(allowedUsers, `a mention of ${m[1]} in: ${text}`).toContain(m[1]);
    const withoutOurs = allowedUsers.reduce((t, user) => t.replaceAll(`<@${user}>`, ""), text);
    expect(withoutOurs, text).not.toContain("<");
  }
}

/** The hostile string as Slack must receive it: escaped, so it shows exactly as typed. */
export const HOSTILE_SHOWN = "&lt;!channel&gt; &lt;!here|here&gt; &lt;@UEVIL0001&gt;";
