#!/usr/bin/env node
import { EnvError, RuleValidationError, UserError } from "@keepwarm/core";
import { StoreError } from "@keepwarm/store";
import { COMMANDS } from "./commands/index";
import { createContext } from "./context";

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    "keepwarm: customer-retention nudges",
    "",
    "usage: pnpm keepwarm <command> [args]",
    "",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "configuration comes from the environment (KEEPWARM_DB, KEEPWARM_TZ, SLACK_BOT_TOKEN, …): see README.md",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    throw new UserError(`unknown command "${name}"; run "pnpm keepwarm help" for the list`);
  }
  const ctx = createContext();
  try {
    return (await command.run(args, ctx)) ?? 0;
  } finally {
    await ctx.close();
  }
}

/** Users' mistakes get one line and exit 1; only real bugs show a stack (with KEEPWARM_DEBUG=1). */
function report(error: unknown): number {
  const known = error instanceof UserError || error instanceof EnvError || error instanceof StoreError || error instanceof RuleValidationError;
  if (known) {
    process.stderr.write(`keepwarm: error: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`keepwarm: internal error: ${(error as Error)?.message ?? String(error)}\n`);
  if (process.env.KEEPWARM_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return 2;
}

// `keepwarm sweep --json | head` closes stdout early: that is the reader's choice, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = report(error);
  },
);
