import type { Store } from "@keepwarm/store";
import type { webApi } from "@slack/bolt";
import { ChannelDirectory } from "../delivery/channel-directory";
import type { BotLogger } from "../deps";

/** How long a channel's member list is trusted: someone removed from the channel loses read access within this. */
export const READ_CHANNEL_TTL_MS = 5 * 60_000;
/** conversations.members pages read at most (1,000 members each): the cache holds at most 20,000 ids. */
const MAX_PAGES = 20;
/** After a failed refresh, wait this long before asking Slack again (a down Slack is not asked per request). */
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * Read access for the members of one channel (`KEEPWARM_READ_CHANNEL`). The channel's
 * name is resolved to its id once through the channel directory (`slack_channels`);
 * its members are read with conversations.members and kept for READ_CHANNEL_TTL_MS,
 * one refresh at a time. When Slack cannot be asked, the last known list is used; with
 * none yet, nobody reads through the channel: access fails closed.
 */
export class ReadChannel {
  private members: ReadonlySet<string> | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readonly directory: ChannelDirectory;

  constructor(
    private readonly channel: string,
    store: Store,
    private readonly client: webApi.WebClient,
    private readonly now: () => number,
    private readonly log: BotLogger,
  ) {
    this.directory = new ChannelDirectory(store, client, now);
  }

  async isMember(user: string): Promise<boolean> {
    const now = this.now();
    if (now - this.fetchedAt >= READ_CHANNEL_TTL_MS && now - this.failedAt >= RETRY_AFTER_FAILURE_MS) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    return this.members?.has(user) ?? false;
  }

  private async refresh(): Promise<void> {
    try {
      const id = await this.directory.idOf(this.channel);
      const members = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await this.client.conversations.members({ channel: id, limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const m of result.members ?? []) members.add(m);
        cursor = result.response_metadata?.next_cursor || undefined;
        if (cursor === undefined) break;
      }
      this.members = members;
      this.fetchedAt = this.now();
    } catch (error) {
      this.failedAt = this.now();
      this.log.warn(
        `KEEPWARM_READ_CHANNEL ${this.channel}: members could not be read (${(error as Error).message}); ${this.members === undefined ? "nobody reads through it yet" : "using the last known list"}`,
      );
    }
  }
}
