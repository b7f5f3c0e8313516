/** Where a run of the CLI reads its configuration and writes its output: the process, or a test. */
export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal: progress lines are drawn (and overwritten) there. */
  tty: boolean;
  /** Colours in --help (stdout is a terminal and NO_COLOR is unset). */
  color: boolean;
}

export function processIo(): Io {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    tty: process.stderr.isTTY === true,
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  };
}
