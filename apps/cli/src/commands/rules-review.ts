import { writeFile } from "node:fs/promises";
import { diffRuleFiles, diffSummary, exportRuleSet, getActiveRuleSet, listRuleSetVersions, rollbackRuleSet, UserError } from "@keepwarm/core";
import { ruleFileJsonSchema } from "@keepwarm/rules";
import type { Run } from "../command";
import { localTime } from "../local-time";
import type { rulesDiffArgs, rulesExportArgs, rulesHistoryArgs, rulesRollbackArgs } from "./index";
import { readValidRuleFile } from "./rule-file-input";

/** "v3", "3" → 3; anything else is a one-line error. */
export function parseVersion(text: string): number {
  const match = /^v?(\d{1,9})$/i.exec(text.trim());
  if (match === null || Number(match[1]) < 1)
    throw new UserError(`"${text}" is not a rules version (use a number from keepwarm rules history, e.g. 3)`, "invalid_version");
  return Number(match[1]);
}

const short = (value: unknown): string => {
  const text = value === undefined ? "(none)" : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
};

export const rulesHistoryCommand: Run<typeof rulesHistoryArgs> = async (values, ctx) => {
  const versions = await listRuleSetVersions(await ctx.store({ readonlyFallback: true }));
  if (values.json) {
    ctx.out(JSON.stringify({ versions }));
    return 0;
  }
  if (versions.length === 0) {
    ctx.out("no rule versions yet: keepwarm init activates the default rules as version 1");
    return 0;
  }
  const rows = versions.map((v) => [
    `${v.active ? "*" : " "} v${v.version}`,
    localTime(v.createdAt, ctx.calendar),
    v.author,
    v.source,
    v.ruleCount === null ? "?" : String(v.ruleCount),
    v.note ?? "",
  ]);
  const header = ["  version", `time (${ctx.calendar.timeZone})`, "author", "source", "rules", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  ctx.out(line(header));
  for (const row of rows) ctx.out(line(row));
  return 0;
};

export const rulesDiffCommand: Run<typeof rulesDiffArgs> = async (values, ctx) => {
  const { file } = values;
  const candidate = await readValidRuleFile(file, ctx);
  if (candidate === undefined) return 1;
  const active = await getActiveRuleSet(await ctx.store({ readonlyFallback: true }));
  const diff = diffRuleFiles(active?.ruleFile, candidate);
  if (values.json) {
    ctx.out(JSON.stringify({ activeVersion: active?.version ?? 0, ...diff, summary: diffSummary(diff) }));
    return 0;
  }
  ctx.out(active === undefined ? `${file} against no active rules (run keepwarm init):` : `${file} against active version ${active.version}:`);
  const mark = { added: "+", removed: "-", changed: "~", unchanged: "=" } as const;
  for (const entry of diff.rules) {
    ctx.out(`  ${mark[entry.status]} ${entry.ruleId}  ${entry.status}${entry.status === "changed" ? `: ${entry.fields.join(", ")}` : ""}`);
    for (const change of entry.changes) ctx.out(`      ${change.path}: ${short(change.before)} → ${short(change.after)}`);
  }
  ctx.out(`summary: ${diffSummary(diff)}`);
  return 0;
};

export const rulesRollbackCommand: Run<typeof rulesRollbackArgs> = async (values, ctx) => {
  const version = parseVersion(values.version);
  const store = await ctx.store();
  const before = await getActiveRuleSet(store).catch(() => undefined);
  const author = values.author ?? ctx.vars.USER ?? "cli";
  const { ruleSet, changed } = await rollbackRuleSet(store, version, { author });
  if (values.json) ctx.out(JSON.stringify({ rolledBack: changed, to: version, version: ruleSet.version }));
  else if (changed) ctx.out(`rolled back to v${version}: its rules are now active as version ${ruleSet.version}`);
  else ctx.out(`v${version}'s rules are already the active rules (version ${ruleSet.version}); nothing changed`);
  if (changed) {
    const summary = diffSummary(diffRuleFiles(before?.ruleFile, ruleSet.ruleFile));
    const change = { author, version: ruleSet.version, previousVersion: before?.version, via: `from the CLI (rollback to v${version})`, summary };
    await (await import("@keepwarm/bot")).announceRuleChangeToSlack(ctx.env, change, (line) => ctx.err(`keepwarm: warning: ${line}`));
  }
  return 0;
};

export const rulesExportCommand: Run<typeof rulesExportArgs> = async (values, ctx) => {
  const version = values.version === undefined ? undefined : parseVersion(values.version);
  const { version: exported, json } = await exportRuleSet(await ctx.store({ readonlyFallback: true }), version);
  if (values.out !== undefined) {
    try {
      await writeFile(values.out, json);
    } catch (error) {
      throw new UserError(`cannot write ${values.out}: ${(error as Error).message}`);
    }
    ctx.out(`wrote rules version ${exported} to ${values.out}`);
    return 0;
  }
  // Stored text as is; ctx.out only adds the final newline a file usually ends with.
  ctx.out(json.endsWith("\n") ? json.slice(0, -1) : json);
  return 0;
};

export const rulesSchemaCommand: Run<Record<never, never>> = async (_args, ctx) => {
  ctx.out(JSON.stringify(ruleFileJsonSchema(), null, 2));
  return 0;
};
