import type { Generated } from "kysely";

/** A Slack message a nudge was posted in before its latest one (nudges.slack_ts): kept up to date too. */
export interface NudgeEarlierMessagesTable {
  id: Generated<number>;
  nudge_id: number;
  slack_channel: string;
  slack_ts: string;
  replaced_at: number;
}
