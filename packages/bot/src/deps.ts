import type { Env } from "@keepwarm/core";
import type { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import type { ReadChannel } from "./security/read-channel";

export interface BotLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What every listener needs: the store, configuration, time, and a way to wake delivery. */
export interface BotDeps {
  store: Store;
  env: Env;
  calendar: Calendar;
  now: () => number;
  logger: BotLogger;
  /** Members of KEEPWARM_READ_CHANNEL, when set: they may read every customer. */
  readChannel?: ReadChannel | undefined;
  /** Ask the delivery loop to run soon (after a state change Slack must show). */
  kickDelivery: () => void;
}
