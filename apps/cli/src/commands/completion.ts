import { type KeepwarmCommand, type Run, UsageError } from "../command";
import { completionScript, SHELLS, type Shell } from "../completion-scripts";
import type { completionArgs } from "./index";

/**
 * `keepwarm completion bash|zsh|fish`: the shell's completion script, generated from the
 * declared commands (handed in by commands/index.ts, which declares this one too).
 */
export const completionCommand =
  (commands: Record<string, KeepwarmCommand>): Run<typeof completionArgs> =>
  async (args, ctx) => {
    const shell = args.shell;
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell "${shell}": use ${SHELLS.join(", ")}`);
    ctx.out(completionScript(shell as Shell, commands).trimEnd());
    return 0;
  };
