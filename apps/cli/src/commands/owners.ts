import { UserError } from "@keepwarm/core";
import type { Run } from "../command";
import type { ownersSyncArgs } from "./index";

/** `owners sync`: resolve the owners imported as emails or names into Slack members (see syncOwners). */
export const ownersSyncCommand: Run<typeof ownersSyncArgs> = async (values, ctx) => {
  if (ctx.env.SLACK_BOT_TOKEN === undefined) throw new UserError("owners sync asks Slack: set SLACK_BOT_TOKEN");
  const { ownerSyncClient, syncOwners } = await import("@keepwarm/bot");
  const result = await syncOwners(await ctx.store(), ownerSyncClient(ctx.env.SLACK_BOT_TOKEN, ctx.env.SLACK_API_URL));
  if (values.json) {
    ctx.out(JSON.stringify(result));
    return 0;
  }
  for (const { owner, slackId, customers } of result.resolved) ctx.out(`${owner} → ${slackId} (${customers} customer${customers === 1 ? "" : "s"})`);
  if (result.unresolved.length > 0) ctx.err(`warning: no Slack member found for ${result.unresolved.join(", ")}`);
  ctx.out(`owners sync: ${result.resolved.length} resolved, ${result.unresolved.length} unresolved, ${result.named} reps named in the directory`);
  return 0;
};
