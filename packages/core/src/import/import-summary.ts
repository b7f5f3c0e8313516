import type { ImportReport } from "./import-csv";

/** Errors printed before the summary; `--json` has every one of them. */
export const PRINTED_ERRORS = 50;

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/**
 * An import's report as the CLI prints it: `err` (warnings, notes, the first 50 errors
 * by file and line, the verdict of a failed import) and `out` (the summary), and the
 * exit code.
 */
export function importSummary(report: ImportReport): { out: string[]; err: string[]; code: number } {
  const { file, kind } = report;
  const err: string[] = [];
  const out: string[] = [];
  for (const note of report.notes) err.push(`note: ${note}`);
  for (const warning of report.warnings) err.push(`warning: ${warning}`);
  if (report.unresolvedOwners.length > 0) {
    const shown = report.unresolvedOwners
      .slice(0, 10)
      .map(({ owner, rows }) => `${owner} (${plural(rows, "row")})`)
      .join(", ");
    const more = report.unresolvedOwners.length > 10 ? `, and ${report.unresolvedOwners.length - 10} more` : "";
    err.push(
      `warning: ${plural(report.unresolvedOwners.length, "owner")} without a Slack member yet: ${shown}${more}; the customers keep them as given, and \`keepwarm owners sync\` resolves emails through Slack`,
    );
  }
  for (const error of report.invalid.slice(0, PRINTED_ERRORS)) err.push(`${error.file}:${error.line}: ${error.message}`);
  if (report.invalid.length > PRINTED_ERRORS) err.push(`… and ${plural(report.invalid.length - PRINTED_ERRORS, "more invalid row")} (all of them with --json)`);
  const read = report.dialect === null ? "" : ` (${report.dialect.description})`;
  const invalid = report.invalid.length;
  if (report.dryRun) {
    const parts = [`would create ${report.inserted.toLocaleString("en-US")}`];
    if (kind === "customers") parts.push(`update ${report.updated.toLocaleString("en-US")}`);
    parts.push(`leave ${report.unchanged.toLocaleString("en-US")} as already present`);
    parts.push(`refuse ${plural(invalid, "invalid row")}`);
    out.push(`dry run of ${plural(report.rows, `${kind} row`)} from ${file}${read}: ${parts.join(", ")}; nothing was written`);
    for (const outcome of ["inserted", "updated", "unchanged"] as const) {
      const ids = report.samples[outcome];
      if (ids.length > 0)
        out.push(
          `  ${outcome === "inserted" ? "new" : outcome === "updated" ? "updated" : "already present"}: ${ids.join(", ")}${report[outcome] > ids.length ? ", …" : ""}`,
        );
    }
    return { out, err, code: invalid > 0 ? 1 : 0 };
  }
  if (!report.committed) {
    err.push(`keepwarm: error: ${plural(invalid, "invalid row")} in ${file}; nothing was imported (fix them, or pass --skip-invalid)`);
    return { out, err, code: 1 };
  }
  const parts = [`${report.inserted} new`];
  if (kind === "customers") parts.push(`${report.updated} updated`);
  parts.push(`${report.unchanged} already present`);
  if (invalid > 0) parts.push(`${invalid} invalid skipped`);
  if (report.resolvedNudges > 0) parts.push(`${report.resolvedNudges} nudges resolved`);
  out.push(`imported ${report.rows} ${kind} rows from ${file}${read}: ${parts.join(", ")}`);
  return { out, err, code: 0 };
}
