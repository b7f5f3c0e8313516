import { outboxItems, outboxLine, parseOutboxStatus, retryFailedDeliveries, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import type { outboxListArgs, outboxRetryArgs } from "./index";
import { parseWholeNumber } from "./rule-file-input";

export const outboxListCommand: Run<typeof outboxListArgs> = async (values, ctx) => {
  const limit = values.limit === undefined ? 50 : parseWholeNumber(values.limit, "--limit", 1, 100_000);
  const status = values.status === undefined ? undefined : parseOutboxStatus(values.status);
  const items = await outboxItems(await ctx.store({ readonlyFallback: true }), { ...(status === undefined ? {} : { status }), limit });
  if (values.json) ctx.out(JSON.stringify(items, null, 2));
  else if (items.length === 0) ctx.out(status === undefined ? "the outbox is empty" : `no ${status} outbox items`);
  else for (const item of items) ctx.out(outboxLine(item));
  return 0;
};

export const outboxRetryCommand: Run<typeof outboxRetryArgs> = async (values, ctx) => {
  // The ids are the declared positional and every word after it.
  const words = values._;
  if ((values["all-failed"] ?? false) === words.length > 0) {
    throw new UserError("give outbox ids or --all-failed (one of the two; see keepwarm outbox retry --help)");
  }
  const ids = words.map((word) => {
    const id = Number(word.replace(/^#/, ""));
    if (!Number.isInteger(id) || id < 1) throw new UserError(`"${word}" is not an outbox id (a number from keepwarm outbox list, e.g. 12 or #12)`);
    return id;
  });
  const retried = await retryFailedDeliveries(await ctx.store(), values["all-failed"] ? { allFailed: true } : { ids });
  ctx.out(
    retried.length === 0
      ? "no failed outbox items"
      : `re-queued ${retried.length} item${retried.length === 1 ? "" : "s"}: the running bot (or the next sweep with SLACK_BOT_TOKEN) delivers them`,
  );
  return 0;
};
