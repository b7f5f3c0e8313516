import { columnMapping, IMPORT_KINDS, type ImportKind, importCsv, importSummary, parseDateFormat, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import type { importArgs } from "./index";

export const importCommand: Run<typeof importArgs> = async (values, ctx) => {
  const { kind, file } = values;
  if (!(IMPORT_KINDS as readonly string[]).includes(kind)) throw new UserError(`cannot import "${kind}": choose ${IMPORT_KINDS.join(", ")}`);
  const mapping = columnMapping(kind as ImportKind, { map: values.map, mapping: values.mapping });
  const dateFormat = parseDateFormat(values["date-format"]);
  const store = await ctx.store();
  const report = await importCsv(store, kind as ImportKind, file, {
    skipInvalid: values["skip-invalid"] ?? false,
    dryRun: values["dry-run"] ?? false,
    dateFormat,
    mapping,
    calendar: ctx.calendar,
    onProgress: (rows, stage) => ctx.progress(`${stage} ${kind}: ${rows.toLocaleString("en-US")} rows`),
  });
  ctx.progress("");
  const summary = importSummary(report);
  if (values.json) {
    ctx.out(JSON.stringify(report));
    return summary.code;
  }
  for (const line of summary.err) ctx.err(line);
  for (const line of summary.out) ctx.out(line);
  return summary.code;
};
