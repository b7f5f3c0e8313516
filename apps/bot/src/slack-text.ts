/** Escape text for mrkdwn: Slack needs only &, < and > escaped. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Slash-command text as a person typed it: Slack escapes &, < and > and wraps
 * mentions, channels and links in <…>; turn those back into plain words.
 */
export function plainCommandText(text: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `@${name ?? id}`)
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!([a-z]+)(?:\|[^>]*)?>/g, "@$1")
    .replace(/<((?:mailto:|https?:)[^|>]*)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label ?? url.replace(/^mailto:/, ""))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

export const mention = (user: string): string => (/^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : escapeMrkdwn(user));

/** Slack rejects text fields over their limits; cut with an ellipsis. */
export const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
