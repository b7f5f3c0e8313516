import { UserError } from "@keepwarm/core";
import { backupSqlite, copyStore, engineOf, openStore, type Store } from "@keepwarm/store";
import type { Run } from "../command";
import type { dbBackupArgs, dbCopyArgs } from "./index";

/** Move a SQLite install (KEEPWARM_DB) into an empty PostgreSQL database; see docs/operations.md. */
export const dbCopyCommand: Run<typeof dbCopyArgs> = async (values, ctx) => {
  const to = values.to.trim();
  if (to === "") throw new UserError("--to needs a postgres:// URL (the database to move this install into)");
  if (engineOf(to) !== "postgres") throw new UserError("--to must be a postgres:// URL (the database to move this install into)");
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
};

/** SQLite's online backup: safe while the bot and worker run. */
export const dbBackupCommand: Run<typeof dbBackupArgs> = async (values, ctx) => {
  if (engineOf(ctx.env.KEEPWARM_DB) === "postgres") {
    throw new UserError('KEEPWARM_DB is PostgreSQL: back it up with pg_dump (e.g. pg_dump -Fc "$KEEPWARM_DB" > keepwarm.dump); db backup copies SQLite files');
  }
  const store = await ctx.store({ readonly: true });
  const result = await backupSqlite(store, values.file, (done, total) => ctx.progress(`backup: ${done} of ${total} pages`));
  ctx.progress("");
  ctx.out(`backed up ${store.display} to ${result.file} (${Math.ceil(result.bytes / 1024)} KB, integrity checked)`);
  ctx.out(`restore: stop keepwarm, copy ${result.file} over ${store.display} (and delete its -wal and -shm files), start it again`);
  return 0;
};
