import { type Store, storedSlackChannelId, storeSlackChannelIds } from "@keepwarm/store";
import type { webApi } from "@slack/bolt";

/** A conversation id as Slack writes it: C (public), G (private, legacy) or D (DM), then upper-case letters and digits. */
const CONVERSATION_ID = /^[CGD][A-Z0-9]{2,30}$/;
/** conversations.list pages read at most to resolve one name (1,000 channels each). */
const MAX_PAGES = 20;

/** A channel name Slack does not list: the items for it fail, with this message, until fixed and retried. */
export class UnknownChannelError extends Error {}

/**
 * Channel names (`#cs-fallback`, a rule's `#vip`) resolved to ids once: a look-up of
 * an unknown outcome needs the id, and Slack answers `channel_not_found` to history
 * calls made with a name. One conversations.list walk stores every name it sees in
 * `slack_channels`, so later names and other processes resolve without asking again.
 */
export class ChannelDirectory {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly client: webApi.WebClient,
    private readonly now: () => number,
  ) {}

  async idOf(channel: string): Promise<string> {
    const name = channel.replace(/^#/, "");
    if (CONVERSATION_ID.test(name)) return name;
    const cached = this.known.get(name) ?? (await storedSlackChannelId(this.store.db, name));
    if (cached !== undefined) {
      this.known.set(name, cached);
      return cached;
    }
    const seen: Array<{ name: string; id: string }> = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.client.conversations.list({
        types: "public_channel,private_channel",
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const c of result.channels ?? []) if (c.name !== undefined && c.id !== undefined) seen.push({ name: c.name, id: c.id });
      cursor = result.response_metadata?.next_cursor || undefined;
      if (cursor === undefined || seen.some((c) => c.name === name)) break;
    }
    await storeSlackChannelIds(this.store.db, seen, this.now());
    for (const c of seen) this.known.set(c.name, c.id);
    const id = this.known.get(name);
    if (id === undefined) throw new UnknownChannelError(`channel #${name} not found (conversations.list): archived, renamed, or private without the bot`);
    return id;
  }
}
