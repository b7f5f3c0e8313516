import { applyRuleSet, diffRuleFiles, diffSummary, getActiveRuleSet, RuleValidationError, ruleValueWarnings } from "@keepwarm/core";
import { formatError, type RuleFile, type ValueWarning, validateRuleFileText } from "@keepwarm/rules";
import type { Run } from "../command";
import type { Context } from "../context";
import type { rulesApplyArgs, rulesValidateArgs } from "./index";
import { readRuleFile } from "./rule-file-input";

export const rulesValidateCommand: Run<typeof rulesValidateArgs> = async (values, ctx) => {
  const { file } = values;
  const result = validateRuleFileText(await readRuleFile(file));
  const warnings = result.valid ? await storedValueWarnings(ctx, result.ruleFile) : [];
  if (values.json) {
    ctx.out(JSON.stringify({ valid: result.valid, errors: result.errors, warnings }));
    return result.valid ? 0 : 1;
  }
  if (result.valid) {
    for (const warning of warnings) ctx.err(`${file}: warning: ${formatError(warning)}`);
    ctx.out(
      `${file}: valid (${result.ruleFile.rules.length} rules${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""})`,
    );
    return 0;
  }
  for (const error of result.errors) ctx.err(`${file}: ${formatError(error)}`);
  ctx.err(`keepwarm: error: ${file} is invalid (${result.errors.length} error${result.errors.length === 1 ? "" : "s"})`);
  return 1;
};

/**
 * Warnings against the customers stored in KEEPWARM_DB (or --db). None when there is no
 * database yet or it was never migrated (validate opens it read-only: it never creates or
 * migrates one), as a file is validated before anything is imported too.
 */
async function storedValueWarnings(ctx: Context, ruleFile: RuleFile): Promise<ValueWarning[]> {
  const store = await ctx.store({ readonly: true }).catch(() => undefined);
  if (store === undefined) return [];
  return ruleValueWarnings(store, ruleFile).catch(() => []);
}

export const rulesApplyCommand: Run<typeof rulesApplyArgs> = async (values, ctx) => {
  const { file } = values;
  const text = await readRuleFile(file);
  const store = await ctx.store();
  try {
    const before = await getActiveRuleSet(store).catch(() => undefined);
    const author = values.author ?? ctx.vars.USER ?? "cli";
    const { ruleSet, changed } = await applyRuleSet(store, text, {
      author,
      source: file,
      ...(values.note === undefined ? {} : { note: values.note }),
    });
    const summary = diffSummary(diffRuleFiles(before?.ruleFile, ruleSet.ruleFile));
    if (values.json) ctx.out(JSON.stringify({ applied: changed, version: ruleSet.version }));
    else if (changed) ctx.out(`applied ${file} as rules version ${ruleSet.version}\nchanges: ${summary}`);
    else ctx.out(`${file} is already the active rules (version ${ruleSet.version}); nothing changed`);
    if (changed) {
      const change = { author, version: ruleSet.version, previousVersion: before?.version, via: `from the CLI (${file})`, summary };
      await (await import("@keepwarm/bot")).announceRuleChangeToSlack(ctx.env, change, (line) => ctx.err(`keepwarm: warning: ${line}`));
    }
    return 0;
  } catch (error) {
    if (!(error instanceof RuleValidationError)) throw error;
    if (values.json) ctx.out(JSON.stringify({ applied: false, valid: false, errors: error.errors }));
    else for (const e of error.errors) ctx.err(`${file}: ${formatError(e)}`);
    ctx.err(`keepwarm: error: ${file} is invalid; the active rules are unchanged`);
    return 1;
  }
};
