import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "@keepwarm/core";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** util.parseArgs with user-facing errors instead of TypeErrors. */
export function parse<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${(error as Error).message.split("\n")[0]?.replace(/\. To specify a positional.*$/, "")}\nusage: ${usage}`);
  }
}

export function requirePositional(positionals: string[], index: number, name: string, usage: string): string {
  const value = positionals[index];
  if (value === undefined || value === "") throw new UserError(`missing ${name}\nusage: ${usage}`);
  return value;
}
