import type { ArgsDef, CommandDef, ParsedArgs } from "citty";
import type { Context } from "./context";

/**
 * How a keepwarm command is declared (see commands/index.ts): citty's `meta` and
 * `args`, plus `load`, which imports the implementation only when the command runs.
 * Declarations import nothing heavy, so `keepwarm --help` and `keepwarm x --help`
 * never load Bolt, kysely or a database driver.
 */
export type Run<A extends ArgsDef> = (args: ParsedArgs<A>, ctx: Context) => Promise<number | undefined>;

export interface KeepwarmCommand extends CommandDef<ArgsDef> {
  meta: { name: string; description: string; hidden?: boolean };
  /** Words after the declared positionals are allowed and reach the command in `args._` (touch's note). */
  variadic?: boolean;
  /** Lines printed after the generated usage: examples, the environment it reads. */
  notes?: readonly string[];
  subCommands?: Record<string, KeepwarmCommand>;
  /** The implementation, loaded when the command runs. */
  load?: () => Promise<Run<ArgsDef>>;
}

export function command<const A extends ArgsDef>(def: {
  name: string;
  description: string;
  args?: A;
  variadic?: boolean;
  notes?: readonly string[];
  load: () => Promise<Run<A>>;
}): KeepwarmCommand {
  return {
    meta: { name: def.name, description: def.description },
    args: def.args ?? {},
    ...(def.variadic === undefined ? {} : { variadic: def.variadic }),
    ...(def.notes === undefined ? {} : { notes: def.notes }),
    load: def.load as () => Promise<Run<ArgsDef>>,
  };
}

/** A command made of subcommands (`keepwarm rules validate …`). */
export function group(def: { name: string; description: string; subCommands: Record<string, KeepwarmCommand>; notes?: readonly string[] }): KeepwarmCommand {
  return { meta: { name: def.name, description: def.description }, subCommands: def.subCommands, ...(def.notes === undefined ? {} : { notes: def.notes }) };
}

/** A mistake on the command line, found before any command code loads: one line, exit 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

// Shared option groups: spread them into a command's args so every command spells them alike.
export const jsonArg = { json: { type: "boolean", description: "print one JSON document on stdout instead of text" } } as const satisfies ArgsDef;
export const asOfArg = {
  "as-of": { type: "string", valueHint: "YYYY-MM-DD", description: "evaluate as of this date instead of now (in KEEPWARM_TZ)" },
} as const satisfies ArgsDef;
export const dbArg = {
  db: { type: "string", valueHint: "PATH|postgres://…", description: "the database to use (default: KEEPWARM_DB, else ./data/keepwarm.db)" },
} as const satisfies ArgsDef;
export const periodArgs = {
  since: { type: "string", valueHint: "YYYY-MM-DD", description: "start of the period" },
  until: { type: "string", valueHint: "YYYY-MM-DD", description: "end of the period (default: now)" },
  segment: { type: "string", valueHint: "S", description: "only customers of this segment" },
} as const satisfies ArgsDef;
