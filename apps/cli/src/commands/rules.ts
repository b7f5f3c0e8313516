import { applyRuleSet, diffRuleFiles, diffSummary, getActiveRuleSet, RuleValidationError, ruleValueWarnings, UserError } from "@keepwarm/core";
import { formatError, type RuleFile, type ValueWarning, validateRuleFileText } from "@keepwarm/rules";
import { openStore } from "@keepwarm/store";
import { parse, requirePositional } from "../args";
import type { Context } from "../context";
import { readRuleFile } from "./rule-file-input";
import { noiseSubcommands } from "./rules-noise";
import { reviewSubcommands } from "./rules-review";
import { trySubcommands } from "./rules-try";

const USAGE =
  "keepwarm rules validate|diff|apply|preview|backtest FILE | history | rollback VERSION | export [--version N] [--out FILE] | schema | noise | suggest RULE [--out FILE]";

const subcommands: Record<string, (args: string[], ctx: Context) => Promise<number>> = {
  ...reviewSubcommands,
  ...trySubcommands,
  ...noiseSubcommands,
  async validate(args, ctx) {
    const { values, positionals } = parse(args, { json: { type: "boolean" } }, "keepwarm rules validate FILE [--json]");
    const file = requirePositional(positionals, 0, "the rule file", "keepwarm rules validate FILE [--json]");
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
  },
  async apply(args, ctx) {
    const usage = "keepwarm rules apply FILE [--author NAME] [--note TEXT] [--json]";
    const { values, positionals } = parse(args, { json: { type: "boolean" }, author: { type: "string" }, note: { type: "string" } }, usage);
    const file = requirePositional(positionals, 0, "the rule file", usage);
    const text = await readRuleFile(file);
    const store = await ctx.store();
    try {
      const before = await getActiveRuleSet(store).catch(() => undefined);
      const author = values.author ?? process.env.USER ?? "cli";
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
  },
};

/**
 * Warnings against the customers stored in KEEPWARM_DB. None when there is no database
 * yet or it was never migrated (validate opens it read-only: it never creates or
 * migrates one), as a file is validated before anything is imported too.
 */
async function storedValueWarnings(ctx: Context, ruleFile: RuleFile): Promise<ValueWarning[]> {
  const store = await openStore(ctx.env.KEEPWARM_DB, { readonly: true }).catch(() => undefined);
  if (store === undefined) return [];
  try {
    return await ruleValueWarnings(store, ruleFile).catch(() => []);
  } finally {
    await store.close();
  }
}

export async function rulesCommand(args: string[], ctx: Context): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UserError(`missing rules subcommand\nusage: ${USAGE}`);
  const run = subcommands[sub];
  if (run === undefined) throw new UserError(`unknown rules subcommand "${sub}"\nusage: ${USAGE}`);
  return run(rest, ctx);
}

export { readRuleFile } from "./rule-file-input";
export { subcommands as rulesSubcommands };
