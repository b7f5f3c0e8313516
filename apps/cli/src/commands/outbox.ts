import { outboxItems, outboxLine, parseOutboxStatus, retryFailedDeliveries, UserError } from "@keepwarm/core";
import { parse } from "../args";
import type { Context } from "../context";

const USAGE = "keepwarm outbox list [--status pending|held|done|failed|skipped] [--limit N] [--json] | keepwarm outbox retry <id…|--all-failed>";

const subcommands: Record<string, (args: string[], ctx: Context) => Promise<number>> = {
  async list(args, ctx) {
    const { values, positionals } = parse(args, { status: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } }, USAGE);
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UserError(`--limit "${values.limit}" is not a whole number from 1 to 100000`);
    const items = await outboxItems(await ctx.store(), { ...(values.status === undefined ? {} : { status: parseOutboxStatus(values.status) }), limit });
    if (values.json) ctx.out(JSON.stringify(items, null, 2));
    else if (items.length === 0) ctx.out(values.status === undefined ? "the outbox is empty" : `no ${values.status} outbox items`);
    else for (const item of items) ctx.out(outboxLine(item));
    return 0;
  },
  async retry(args, ctx) {
    const { values, positionals } = parse(args, { "all-failed": { type: "boolean" } }, USAGE);
    if ((values["all-failed"] ?? false) === positionals.length > 0) throw new UserError(`give outbox ids or --all-failed (one of the two)\nusage: ${USAGE}`);
    const ids = positionals.map((p) => {
      const id = Number(p.replace(/^#/, ""));
      if (!Number.isInteger(id) || id < 1) throw new UserError(`"${p}" is not an outbox id\nusage: ${USAGE}`);
      return id;
    });
    const retried = await retryFailedDeliveries(await ctx.store(), values["all-failed"] ? { allFailed: true } : { ids });
    ctx.out(
      retried.length === 0
        ? "no failed outbox items"
        : `re-queued ${retried.length} item${retried.length === 1 ? "" : "s"}: the running bot (or the next sweep with SLACK_BOT_TOKEN) delivers them`,
    );
    return 0;
  },
};

export async function outboxCommand(args: string[], ctx: Context): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UserError(`missing outbox subcommand\nusage: ${USAGE}`);
  const run = subcommands[sub];
  if (run === undefined) throw new UserError(`unknown outbox subcommand "${sub}"\nusage: ${USAGE}`);
  return run(rest, ctx);
}
