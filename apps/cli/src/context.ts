import { type Env, parseEnv } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { openStore, type Store } from "@keepwarm/store";

export interface Context {
  env: Env;
  calendar: Calendar;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress lines only on a terminal, overwritten in place. */
  progress: (text: string) => void;
  store(): Promise<Store>;
  close(): Promise<void>;
}

export function createContext(): Context {
  const env = parseEnv();
  let store: Promise<Store> | undefined;
  const tty = process.stderr.isTTY === true;
  return {
    env,
    calendar: new Calendar(env.KEEPWARM_TZ),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: (text) => {
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
    },
    store() {
      store ??= openStore(env.KEEPWARM_DB);
      return store;
    },
    async close() {
      if (store !== undefined) await (await store).close();
    },
  };
}
