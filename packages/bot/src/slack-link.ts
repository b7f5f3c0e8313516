import type { UserError } from "@keepwarm/core";
import type { BotLogger } from "./deps";
import { appTokenRefused, type BotIdentity, botTokenRefused, callSlack, checkBotToken } from "./slack-auth";

/** What /healthz says of Slack. */
export type SlackStatus = "connecting" | "ok" | `error: ${string}`;

const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export interface SlackLinkOptions {
  apiUrl: string;
  botToken: string;
  /** Socket Mode: the app-level token, checked before the socket client is started. */
  appToken?: string | undefined;
  /** A known workspace (tests, benchmarks): no auth.test at all. */
  teamId?: string | undefined;
  log: BotLogger;
  /** A token Slack refused after start-up (found by a background retry). */
  onFatal: (error: UserError) => void;
  timeoutMs?: number;
}

/**
 * The bot's standing with Slack, found out without ever blocking the HTTP server: the
 * bot token (`auth.test`: the installed workspace and the bot's own ids) and, in Socket
 * Mode, the app-level token (`apps.connections.open`). Each check is bounded in time
 * and abandoned on stop. A refusal is fatal (one line naming the variable); an
 * unreachable or silent Slack is retried in the background (2 s, 4 s, … 60 s) while the
 * bot keeps listening and /healthz says `error: …`.
 */
export class SlackLink {
  private identity: BotIdentity | undefined;
  private botCheck: Promise<BotIdentity | undefined> | undefined;
  private botError: string | undefined;
  private acceptApp: () => void = () => {};
  private readonly appAccepted = new Promise<void>((resolve) => {
    this.acceptApp = resolve;
  });
  private appError: string | undefined;
  private socket: "n/a" | "connecting" | "ok" = "n/a";
  private fatal: UserError | undefined;
  private readonly abort = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: SlackLinkOptions) {
    if (options.teamId !== undefined) this.identity = { teamId: options.teamId };
    if (options.appToken !== undefined) this.socket = "connecting";
  }

  status(): SlackStatus {
    if (this.fatal !== undefined) return `error: ${this.fatal.message}`;
    if (this.botError !== undefined) return `error: auth.test: ${this.botError} (retrying)`;
    if (this.appError !== undefined) return `error: apps.connections.open: ${this.appError} (retrying)`;
    if (this.identity === undefined || (this.options.appToken !== undefined && this.socket !== "ok")) return "connecting";
    return "ok";
  }

  /** Socket Mode client state, from its events. */
  setSocket(state: "connecting" | "ok"): void {
    this.socket = state;
  }

  /**
   * The installed workspace and the bot's ids: at once when known, else after the check
   * in flight (bounded); undefined while Slack cannot be asked.
   */
  async bot(): Promise<BotIdentity | undefined> {
    if (this.identity !== undefined) return this.identity;
    // While Slack is down, requests do not each ask again: the background retry does.
    if (this.botError !== undefined || this.fatal !== undefined || this.stopped) return undefined;
    this.botCheck ??= this.checkBot();
    return this.botCheck;
  }

  /**
   * The first check of each token, run once at start: resolves when they are known good
   * or Slack could not be asked (then retried in the background); throws the one-line
   * error of a refused token.
   */
  async start(): Promise<void> {
    const checks: Array<Promise<unknown>> = [this.bot()];
    if (this.options.appToken !== undefined) checks.push(this.checkApp());
    await Promise.all(checks);
    if (this.fatal !== undefined) throw this.fatal;
  }

  /** Resolves once the app-level token was accepted (Socket Mode); never if it is refused or we stop. */
  appTokenAccepted(): Promise<void> {
    return this.appAccepted;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async checkBot(attempt = 0): Promise<BotIdentity | undefined> {
    const result = await checkBotToken(this.options.apiUrl, this.options.botToken, this.callOptions());
    this.botCheck = undefined;
    if (result.kind === "ok") {
      this.identity = result.identity;
      this.botError = undefined;
      if (attempt > 0) this.options.log.info(`Slack answers again: auth.test ok (team ${result.identity.teamId})`);
      return result.identity;
    }
    if (this.stopped) return undefined;
    if (result.kind === "refused") return this.die(botTokenRefused(result.error));
    this.botError = result.error;
    this.options.log.warn(
      `auth.test failed: ${result.error}; retrying in ${Math.round(this.backoff(attempt) / 1000)} s (requests are ignored until Slack answers)`,
    );
    this.later(() => {
      this.botCheck = this.checkBot(attempt + 1);
    }, this.backoff(attempt));
    return undefined;
  }

  private async checkApp(attempt = 0): Promise<void> {
    const token = this.options.appToken;
    if (token === undefined) return;
    const result = await callSlack(this.options.apiUrl, "apps.connections.open", token, this.callOptions());
    if (this.stopped) return;
    if (result.kind === "ok") {
      this.appError = undefined;
      this.acceptApp();
      return;
    }
    if (result.kind === "refused") {
      this.die(appTokenRefused(result.error));
      return;
    }
    this.appError = result.error;
    this.options.log.warn(`apps.connections.open failed: ${result.error}; retrying in ${Math.round(this.backoff(attempt) / 1000)} s`);
    this.later(() => void this.checkApp(attempt + 1), this.backoff(attempt));
  }

  private die(error: UserError): undefined {
    if (this.fatal === undefined) {
      this.fatal = error;
      this.options.onFatal(error);
    }
    return undefined;
  }

  private backoff(attempt: number): number {
    return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
  }

  private later(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private callOptions() {
    return { signal: this.abort.signal, ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }) };
  }
}
