import type { Env } from "@keepwarm/core";
import { UserError } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { App, HTTPReceiver, type Logger, LogLevel } from "@slack/bolt";
import type { Server } from "node:http";
import { type Clock, systemClock } from "./delivery/clock";
import { type DeliveryLoop, startDeliveryLoop } from "./delivery/delivery-loop";
import { deliveryClient } from "./delivery/slack-errors";
import { SlackDelivery } from "./delivery/slack-delivery";
import type { BotDeps, BotLogger } from "./deps";
import { closeServer, createHttpServer, listen } from "./http-server";
import { registerListeners } from "./listeners/index";
import { teamGuard } from "./security/team-guard";

export interface CreateAppOptions {
  store: Store;
  env: Env;
  /** Wall clock for handlers and request checks. */
  clock?: () => number;
  /** Clock of the delivery rate limiter and backoff (tests pass a fake one). */
  deliveryClock?: Clock;
  logger?: BotLogger;
  /** The installed workspace; asked of auth.test when not given. */
  teamId?: string;
  /** Run the delivery loop in the background (default true); tests drive `delivery` directly. */
  deliveryLoop?: boolean;
  deliveryIntervalMs?: number;
  /** Interface to listen on in HTTP mode (default all). */
  host?: string;
}

export interface BotApp {
  app: App;
  delivery: SlackDelivery;
  mode: "http" | "socket";
  /** Start serving; returns the bound HTTP port (/healthz in both modes, /slack/events in HTTP mode). */
  start(port?: number): Promise<number>;
  stop(): Promise<void>;
  /** Wake delivery now (after a sweep). */
  kickDelivery(): void;
}

const consoleLogger: BotLogger = {
  info: (m) => process.stderr.write(`[bot] ${m}\n`),
  warn: (m) => process.stderr.write(`[bot] warning: ${m}\n`),
  error: (m) => process.stderr.write(`[bot] error: ${m}\n`),
};

function boltLogger(log: BotLogger): Logger {
  let level = LogLevel.WARN;
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(" ")),
    error: (...msg: unknown[]) => log.error(msg.map((m) => (m instanceof Error ? m.message : String(m))).join(" ")),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** Configuration the bot cannot run without, as one line. */
export function assertBotEnv(env: Env): { token: string } {
  if (env.SLACK_BOT_TOKEN === undefined)
    throw new UserError("SLACK_BOT_TOKEN is not set: create the Slack app from slack/manifest.yml and install it (see docs/slack.md)");
  if (env.SLACK_APP_TOKEN === undefined && env.SLACK_SIGNING_SECRET === undefined) {
    throw new UserError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN for Socket Mode)");
  }
  return { token: env.SLACK_BOT_TOKEN };
}

/** The whole Slack bot; tests build the very same app against a fake Web API. */
export function createApp(options: CreateAppOptions): BotApp {
  const { store, env } = options;
  const { token } = assertBotEnv(env);
  const log = options.logger ?? consoleLogger;
  const now = options.clock ?? (() => Date.now());
  const socketMode = env.SLACK_APP_TOKEN !== undefined;
  const logger = boltLogger(log);
  const receiver = socketMode
    ? undefined
    : new HTTPReceiver({
        signingSecret: env.SLACK_SIGNING_SECRET ?? "",
        endpoints: "/slack/events",
        logger,
        // Bolt's own 3-second fallback answers a listener that never acks.
        unhandledRequestTimeoutMillis: 3001,
      });
  const app = new App({
    token,
    logger,
    clientOptions: { slackApiUrl: env.SLACK_API_URL },
    ...(env.SLACK_APP_TOKEN !== undefined ? { socketMode: true, appToken: env.SLACK_APP_TOKEN } : receiver !== undefined ? { receiver } : {}),
  });
  const calendar = new Calendar(env.KEEPWARM_TZ);
  const delivery = new SlackDelivery({
    store,
    client: deliveryClient(token, env.SLACK_API_URL),
    fallbackChannel: env.KEEPWARM_FALLBACK_CHANNEL,
    digestThreshold: env.KEEPWARM_DIGEST_THRESHOLD,
    escalation: { managers: env.KEEPWARM_MANAGERS, escalationChannel: env.KEEPWARM_ESCALATION_CHANNEL },
    maxNudgesPerDay: env.KEEPWARM_MAX_NUDGES_PER_DAY,
    calendar,
    clock: options.deliveryClock ?? systemClock,
    logger: log,
  });
  let loop: DeliveryLoop | undefined;
  const deps: BotDeps = { store, env, calendar, now, logger: log, kickDelivery: () => loop?.kick() };

  let team: Promise<string | undefined> | undefined;
  const installedTeam = () => {
    if (options.teamId !== undefined) return Promise.resolve(options.teamId);
    team ??= app.client.auth.test().then(
      (r) => r.team_id,
      (error: Error) => {
        log.error(`auth.test failed: ${error.message}`);
        team = undefined;
        return undefined;
      },
    );
    return team;
  };
  app.use(teamGuard(installedTeam, (m) => log.warn(m)));
  registerListeners(app, deps);
  app.error(async (error) => {
    log.error(`listener failed: ${error.message}`);
  });

  let server: Server | undefined;
  return {
    app,
    delivery,
    mode: socketMode ? "socket" : "http",
    async start(port = env.PORT) {
      await installedTeam();
      // Request timestamps are checked against the real clock, as Bolt checks signatures.
      server = createHttpServer({
        store,
        now: () => Date.now(),
        ...(receiver ? { slackListener: receiver.requestListener } : {}),
        onRejected: (reason) => log.warn(`401: ${reason}`),
      });
      const bound = await listen(server, port, options.host);
      if (socketMode) await app.start();
      if (options.deliveryLoop !== false)
        loop = startDeliveryLoop(delivery, { logger: log, ...(options.deliveryIntervalMs ? { intervalMs: options.deliveryIntervalMs } : {}) });
      return bound;
    },
    async stop() {
      await loop?.stop();
      loop = undefined;
      if (socketMode) await app.stop();
      if (server !== undefined) await closeServer(server);
    },
    kickDelivery: () => loop?.kick(),
  };
}
