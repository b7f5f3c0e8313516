import { columnMapping, IMPORT_KINDS, type ImportKind, importCsv, importSummary, parseDateFormat, UserError } from "@keepwarm/core";
import { parse, requirePositional } from "../args";
import type { Context } from "../context";

const USAGE =
  'keepwarm import customers|touches|nps|purchases FILE.csv [--map "Header=column,…"] [--mapping FILE.json|hubspot-companies|salesforce-accounts] [--date-format iso|day-first|month-first] [--dry-run] [--skip-invalid] [--json]';

export async function importCommand(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      "skip-invalid": { type: "boolean" },
      json: { type: "boolean" },
      "dry-run": { type: "boolean" },
      map: { type: "string" },
      mapping: { type: "string" },
      "date-format": { type: "string" },
    },
    USAGE,
  );
  const kind = requirePositional(positionals, 0, "what to import", USAGE);
  if (!(IMPORT_KINDS as readonly string[]).includes(kind)) throw new UserError(`cannot import "${kind}": choose ${IMPORT_KINDS.join(", ")}`);
  const file = requirePositional(positionals, 1, "the CSV file", USAGE);
  if (positionals.length > 2) throw new UserError(`unexpected argument "${positionals[2]}"\nusage: ${USAGE}`);
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
}
