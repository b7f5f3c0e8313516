import { type Run, UsageError } from "../command";
import { completionScript, SHELLS, type Shell } from "../completion-scripts";
import type { completionArgs } from "./index";
import { COMMANDS } from "./index";

/** `keepwarm completion bash|zsh|fish`: the shell's completion script, generated from the declared commands. */
export const completionCommand: Run<typeof completionArgs> = async (args, ctx) => {
  const shell = String(args.shell);
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`unknown shell "${shell}": use ${SHELLS.join(", ")}`);
  }
  ctx.out(completionScript(shell as Shell, COMMANDS).trimEnd());
  return 0;
};
