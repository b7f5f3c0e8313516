import { stripVTControlCharacters } from "node:util";
import { type ArgsDef, type CommandDef, parseArgs, renderUsage } from "citty";
import pkg from "../package.json" with { type: "json" };
import { type KeepwarmCommand, UsageError } from "./command";
import { COMMANDS } from "./commands/index";
import type { Io } from "./io";
import { reportError } from "./report-error";
import { didYouMean } from "./suggest";

export const VERSION: string = pkg.version;

const ROOT: KeepwarmCommand = {
  meta: { name: "keepwarm", description: "customer-retention nudges in Slack" },
  subCommands: COMMANDS,
  notes: ["configuration comes from the environment (KEEPWARM_DB, KEEPWARM_TZ, SLACK_BOT_TOKEN, …): see README.md", "keepwarm --version prints the version"],
};

const HELP = ["--help", "-h"];
const isOption = (word: string) => word.startsWith("-") && word !== "-";

/** Words before a `--`: after it everything is a positional. */
function beforeDashDash(words: string[]): string[] {
  const end = words.indexOf("--");
  return end === -1 ? words : words.slice(0, end);
}

const wantsHelp = (words: string[]) => beforeDashDash(words).some((w) => HELP.includes(w));

/** Run `keepwarm ARGV` with this IO; resolves to the exit code. Errors become one line (see report-error.ts). */
export async function runCli(argv: string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return reportError(error, io);
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  let cmd = ROOT;
  const path = ["keepwarm"];
  // `keepwarm help rules apply` is `keepwarm rules apply --help`.
  let rest = argv[0] === "help" ? [...argv.slice(1), "--help"] : argv;
  while (cmd.subCommands !== undefined) {
    const at = rest.findIndex((w) => !isOption(w));
    const before = at === -1 ? rest : rest.slice(0, at);
    if (wantsHelp(before) || (at === -1 && wantsHelp(rest))) return printHelp(cmd, path, io);
    const stray = before.find((w) => !HELP.includes(w));
    if (stray !== undefined) {
      throw new UsageError(
        `unknown option "${stray}" for ${path.join(" ")}${didYouMean(stray, ["--help", ...(path.length === 1 ? ["--version"] : [])])}; options go after the command`,
      );
    }
    const name = at === -1 ? undefined : rest[at];
    if (name === undefined) {
      if (path.length === 1) {
        await printHelp(cmd, path, io);
        return 1;
      }
      throw new UsageError(`${path.join(" ")}: which one? ${Object.keys(cmd.subCommands).join(", ")} (see ${path.join(" ")} --help)`);
    }
    const sub = cmd.subCommands[name];
    if (sub === undefined) {
      const what = path.length === 1 ? "command" : `${path.slice(1).join(" ")} subcommand`;
      throw new UsageError(`unknown ${what} "${name}"${didYouMean(name, Object.keys(cmd.subCommands))} (see ${path.join(" ")} --help)`);
    }
    path.push(name);
    cmd = sub;
    rest = rest.slice(at + 1);
  }
  if (wantsHelp(rest)) return printHelp(cmd, path, io);
  const argsDef = (cmd.args ?? {}) as ArgsDef;
  const usage = `see ${path.join(" ")} --help`;
  checkOptions(rest, argsDef, path.join(" "), usage);
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(rest, argsDef);
  } catch (error) {
    // citty's messages: "Missing required positional argument: FILE", "Missing required argument: --to".
    throw new UsageError(
      `${path.join(" ")}: ${stripVTControlCharacters((error as Error).message).replace(/^Missing required (positional )?argument: /, "missing ")} (${usage})`,
    );
  }
  const declared = Object.values(argsDef).filter((a) => a.type === "positional").length;
  if (!cmd.variadic && args._.length > declared) throw new UsageError(`${path.join(" ")}: unexpected argument "${args._[declared]}" (${usage})`);
  const run = await (cmd.load as NonNullable<KeepwarmCommand["load"]>)();
  const { createContext } = await import("./context");
  const db = typeof args.db === "string" ? args.db : undefined;
  const ctx = createContext(db === undefined ? io : { ...io, env: { ...io.env, KEEPWARM_DB: db } });
  try {
    return (await run(args, ctx)) ?? 0;
  } finally {
    await ctx.close();
  }
}

/** Every option word must be one the command declares: otherwise one line, with the nearest name. */
function checkOptions(words: string[], argsDef: ArgsDef, where: string, usage: string): void {
  const names = new Map<string, "boolean" | "string">();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const type = def.type === "boolean" ? "boolean" : "string";
    const alias = (def as { alias?: string | string[] }).alias;
    for (const spelling of [name, ...(alias === undefined ? [] : Array.isArray(alias) ? alias : [alias])]) names.set(spelling, type);
  }
  const list = beforeDashDash(words);
  for (let i = 0; i < list.length; i++) {
    const word = list[i] as string;
    if (!isOption(word) || /^-\d/.test(word)) continue;
    const name = word.replace(/^--?/, "").split("=")[0] as string;
    const type = names.get(name) ?? (name.startsWith("no-") && names.get(name.slice(3)) === "boolean" ? "boolean" : undefined);
    if (type === undefined) {
      const known = [...names.keys()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
      throw new UsageError(`${where}: unknown option "${word.split("=")[0]}"${didYouMean(word.split("=")[0] as string, known)} (${usage})`);
    }
    if (type === "string" && !word.includes("=")) {
      const value = list[i + 1];
      if (value === undefined) throw new UsageError(`${where}: ${word} needs a value (${usage})`);
      i++;
    }
  }
}

async function printHelp(cmd: KeepwarmCommand, path: string[], io: Io): Promise<number> {
  // citty names a command "<parent name> <name>": give it the whole path as the parent.
  const parent: CommandDef = { meta: { name: path.slice(0, -1).join(" "), version: VERSION } };
  const self: CommandDef = { ...cmd, meta: { ...cmd.meta, name: path[path.length - 1] as string, ...(path.length === 1 ? { version: VERSION } : {}) } };
  let text = await renderUsage(self, path.length === 1 ? undefined : parent);
  if (cmd.notes !== undefined && cmd.notes.length > 0) text += `\n\n${cmd.notes.join("\n")}`;
  text = text.replace(/[ \t]+$/gm, "");
  io.stdout(`${io.color ? text : stripVTControlCharacters(text)}\n`);
  return 0;
}
