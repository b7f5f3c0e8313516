/** A channel name (without `#`) resolved to its Slack id once (conversations.list), so look-ups that need an id have one. */
export interface SlackChannelsTable {
  name: string;
  channel_id: string;
  resolved_at: number;
}
