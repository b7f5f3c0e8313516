import { readFile } from "node:fs/promises";
import { UserError } from "@keepwarm/core";
import { formatError, type RuleFile, validateRuleFileText } from "@keepwarm/rules";
import type { Context } from "../context";

export async function readRuleFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

/**
 * The file's validated rules, or undefined after printing its errors the way
 * `rules validate` does, so every command reading a candidate file fails alike.
 */
export async function readValidRuleFile(file: string, ctx: Context): Promise<RuleFile | undefined> {
  const result = validateRuleFileText(await readRuleFile(file));
  if (result.valid) return result.ruleFile;
  for (const error of result.errors) ctx.err(`${file}: ${formatError(error)}`);
  ctx.err(`keepwarm: error: ${file} is invalid (${result.errors.length} error${result.errors.length === 1 ? "" : "s"})`);
  return undefined;
}

/** A whole number from the command line, or a one-line error naming the option. */
export function parseWholeNumber(text: string | undefined, name: string, min: number, max: number): number {
  const value = text === undefined || !/^\d+$/.test(text.trim()) ? Number.NaN : Number(text.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UserError(`${name} must be a whole number from ${min} to ${max}${text === undefined ? "" : `; got "${text}"`}`, "invalid_number");
  }
  return value;
}
