/** A workspace-wide pace of Slack calls: the theoretical arrival time of the next one (GCRA), epoch ms. */
export interface SlackPaceTable {
  name: string;
  tat: number;
}
