import { IMPORT_KINDS, type ImportKind, importCsv, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import type { importArgs } from "./index";

export const importCommand: Run<typeof importArgs> = async (values, ctx) => {
  const { kind, file } = values;
  if (!(IMPORT_KINDS as readonly string[]).includes(kind)) throw new UserError(`cannot import "${kind}": choose ${IMPORT_KINDS.join(", ")}`);
  const store = await ctx.store();
  const report = await importCsv(store, kind as ImportKind, file, {
    skipInvalid: values["skip-invalid"] ?? false,
    calendar: ctx.calendar,
    onProgress: (rows, stage) => ctx.progress(`${stage} ${kind}: ${rows.toLocaleString("en-US")} rows`),
  });
  ctx.progress("");
  if (values.json) {
    ctx.out(JSON.stringify(report));
    return report.committed ? 0 : 1;
  }
  for (const warning of report.warnings) ctx.err(`warning: ${warning}`);
  for (const error of report.invalid.slice(0, 50)) ctx.err(`${file}:${error.line}: ${error.message}`);
  if (report.invalid.length > 50) ctx.err(`… and ${report.invalid.length - 50} more invalid rows`);
  if (!report.committed) {
    ctx.err(
      `keepwarm: error: ${report.invalid.length} invalid row${report.invalid.length === 1 ? "" : "s"} in ${file}; nothing was imported (fix them, or pass --skip-invalid)`,
    );
    return 1;
  }
  const parts = [`${report.inserted} new`];
  if (kind === "customers") parts.push(`${report.updated} updated`);
  parts.push(`${report.unchanged} already present`);
  if (report.invalid.length > 0) parts.push(`${report.invalid.length} invalid skipped`);
  if (report.resolvedNudges > 0) parts.push(`${report.resolvedNudges} nudges resolved`);
  ctx.out(`imported ${report.rows} ${kind} rows from ${file}: ${parts.join(", ")}`);
  return 0;
};
