import { UserError } from "@keepwarm/core";
import { copyStore, engineOf, openStore, type Store } from "@keepwarm/store";
import { parse } from "../args";
import type { Context } from "../context";

const USAGE = "keepwarm db copy --to postgres://USER:PASSWORD@HOST:PORT/DATABASE";

const subcommands: Record<string, (args: string[], ctx: Context) => Promise<number>> = {
  /** Move a SQLite install (KEEPWARM_DB) into an empty PostgreSQL database; see docs/operations.md. */
  async copy(args, ctx) {
    const { values, positionals } = parse(args, { to: { type: "string" } }, USAGE);
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
    const to = values.to?.trim();
    if (to === undefined || to === "") throw new UserError(`missing --to postgres://…\nusage: ${USAGE}`);
    if (engineOf(to) !== "postgres") throw new UserError(`--to must be a postgres:// URL (the database to move this install into)\nusage: ${USAGE}`);
    const from = await ctx.store();
    if (from.engine !== "sqlite") {
      throw new UserError(`KEEPWARM_DB is already PostgreSQL (${from.display}); db copy moves a SQLite install (between PostgreSQL databases, use pg_dump)`);
    }
    let target: Store | undefined;
    try {
      target = await openStore(to, { label: "--to" });
      const counts = await copyStore(from, target, (p) => ctx.progress(`${p.table}: ${p.copied} of ${p.total} rows`));
      ctx.progress("");
      const width = Math.max(...counts.map((c) => c.table.length));
      for (const { table, rows } of counts) ctx.out(`${table.padEnd(width)}  ${rows} row${rows === 1 ? "" : "s"}`);
      ctx.out(`copied and verified: every table has as many rows in ${target.display} as in ${from.display}`);
      ctx.out(`next: stop keepwarm, set KEEPWARM_DB=${target.display} (with the password), start it again`);
      return 0;
    } finally {
      ctx.progress("");
      await target?.close();
    }
  },
};

export async function dbCommand(args: string[], ctx: Context): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UserError(`missing db subcommand\nusage: ${USAGE}`);
  const run = subcommands[sub];
  if (run === undefined) throw new UserError(`unknown db subcommand "${sub}"\nusage: ${USAGE}`);
  return run(rest, ctx);
}
