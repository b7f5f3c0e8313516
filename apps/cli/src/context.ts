import { type Env, EnvError, parseEnv, RuleValidationError, UserError } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { openStore, type OpenStoreOptions, type Store, StoreError } from "@keepwarm/store";
import type { Io } from "./io";

export interface Context {
  env: Env;
  /** The raw environment (USER and the like). */
  vars: NodeJS.ProcessEnv;
  calendar: Calendar;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress lines only on a terminal, overwritten in place. */
  progress: (text: string) => void;
  /** The database, opened (and migrated) on first use; `readonly` opens it without writing anything. */
  store(options?: Pick<OpenStoreOptions, "readonly" | "readonlyFallback">): Promise<Store>;
  close(): Promise<void>;
}

export function createContext(io: Io): Context {
  const env = parseEnv(io.env);
  let store: Promise<Store> | undefined;
  return {
    env,
    vars: io.env,
    calendar: new Calendar(env.KEEPWARM_TZ),
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
    progress: (text) => {
      if (io.tty) io.stderr(`\r\x1b[K${text}`);
    },
    store(options = {}) {
      store ??= openStore(env.KEEPWARM_DB, options);
      return store;
    },
    async close() {
      if (store !== undefined) await (await store.catch(() => undefined))?.close();
    },
  };
}

/** The errors whose message is written for the user: shown as they are, exit 1. */
export function isUserFacing(error: unknown): boolean {
  return error instanceof UserError || error instanceof EnvError || error instanceof StoreError || error instanceof RuleValidationError;
}
