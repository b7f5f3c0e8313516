import { createApiHandler } from "@keepwarm/api";
import type { Env } from "@keepwarm/core";
import { type EvaluationLoop, startEvaluationLoop, UserError } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { App, HTTPReceiver, type Logger, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { Server } from "node:http";
import { type Clock, startWebhookLoop, systemClock, type WebhookLoop, WebhookSender } from "@keepwarm/core";
import { type DeliveryLoop, startDeliveryLoop } from "./delivery/delivery-loop";
import { deliveryClient } from "./delivery/slack-errors";
import { SlackDelivery } from "./delivery/slack-delivery";
import type { BotDeps, BotLogger } from "./deps";
import { closeServer, createHttpServer, listen } from "./http-server";
import { registerListeners } from "./listeners/index";
import { httpReplayKey, REPLAY_KEY, ReplayGuard, replayGuardMiddleware, socketReplayKey } from "./security/replay-guard";
import { ReadChannel } from "./security/read-channel";
import { teamGuard } from "./security/team-guard";
import { SlackLink, type SlackStatus } from "./slack-link";

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
  /** Run the webhook sender in the background (default true), on the delivery clock. */
  webhookLoop?: boolean;
  deliveryIntervalMs?: number;
  /** Drain the real-time evaluation queue in the background (default: as deliveryLoop). */
  evaluationLoop?: boolean;
  /** Interface to listen on in HTTP mode (default all). */
  host?: string;
  /** How long each start-up check of a token may wait for Slack (default 10 s). */
  slackCheckTimeoutMs?: number;
}

export interface BotApp {
  app: App;
  delivery: SlackDelivery;
  /** Sends webhook deliveries, beside Slack delivery and never inside its passes. */
  webhooks: WebhookSender;
  mode: "http" | "socket";
  /** Start serving; returns the bound HTTP port (/healthz in both modes, /slack/events in HTTP mode). */
  start(port?: number): Promise<number>;
  stop(): Promise<void>;
  /** Wake delivery now (after a sweep). */
  kickDelivery(): void;
  /** Slack as /healthz reports it: connecting, ok, or error: … */
  slackStatus(): SlackStatus;
  /**
   * Resolves with the one-line error of a token Slack refused after start (a background
   * re-check found it): the bot cannot work, the caller stops it and exits 1.
   */
  failed: Promise<UserError>;
}

/** How long start() waits for the first Socket Mode connection before carrying on (it keeps trying). */
const SOCKET_CONNECT_WAIT_MS = 10_000;

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
  let reportFailure: (error: UserError) => void = () => {};
  const failed = new Promise<UserError>((resolve) => {
    reportFailure = resolve;
  });
  const link = new SlackLink({
    apiUrl: env.SLACK_API_URL,
    botToken: token,
    appToken: env.SLACK_APP_TOKEN,
    teamId: options.teamId,
    log,
    ...(options.slackCheckTimeoutMs === undefined ? {} : { timeoutMs: options.slackCheckTimeoutMs }),
    // Reported once, by whoever runs the bot (the CLI prints it as its one line).
    onFatal: (error) => reportFailure(error),
  });
  // Each receiver names the request for the replay guard: the signed body's hash, or the envelope id.
  const socketReceiver =
    env.SLACK_APP_TOKEN === undefined
      ? undefined
      : new SocketModeReceiver({
          appToken: env.SLACK_APP_TOKEN,
          logger,
          installerOptions: { clientOptions: { slackApiUrl: env.SLACK_API_URL } },
          customPropertiesExtractor: (args: { envelope_id?: unknown }) => {
            const key = socketReplayKey(args.envelope_id);
            return key === undefined ? {} : { [REPLAY_KEY]: key };
          },
        });
  const httpReceiver = socketMode
    ? undefined
    : new HTTPReceiver({
        signingSecret: env.SLACK_SIGNING_SECRET ?? "",
        endpoints: "/slack/events",
        logger,
        // Bolt's own 3-second fallback answers a listener that never acks.
        unhandledRequestTimeoutMillis: 3001,
        customPropertiesExtractor: (req) => ({ [REPLAY_KEY]: httpReplayKey(req.rawBody) }),
      });
  const app = new App({
    // Our own authorize, fed by one bounded auth.test (SlackLink): Bolt's default calls
    // auth.test at construction, unbounded and unhandled, so a bad token crashed the
    // process with a stack trace and a silent Slack delayed everything.
    authorize: async () => {
      const identity = await link.bot();
      if (identity === undefined) throw new Error(`Slack has not confirmed SLACK_BOT_TOKEN yet (${link.status()})`);
      return {
        botToken: token,
        teamId: identity.teamId,
        ...(identity.botUserId ? { botUserId: identity.botUserId } : {}),
        ...(identity.botId ? { botId: identity.botId } : {}),
      };
    },
    logger,
    clientOptions: { slackApiUrl: env.SLACK_API_URL },
    ...(socketReceiver !== undefined ? { socketMode: true, receiver: socketReceiver } : httpReceiver !== undefined ? { receiver: httpReceiver } : {}),
  });
  const calendar = new Calendar(env.KEEPWARM_TZ);
  const delivery = new SlackDelivery({
    store,
    client: deliveryClient(token, env.SLACK_API_URL),
    fallbackChannel: env.KEEPWARM_FALLBACK_CHANNEL,
    digestThreshold: env.KEEPWARM_DIGEST_THRESHOLD,
    escalation: { managers: env.KEEPWARM_MANAGERS, escalationChannel: env.KEEPWARM_ESCALATION_CHANNEL },
    maxNudgesPerDay: env.KEEPWARM_MAX_NUDGES_PER_DAY,
    historyPerMinute: env.KEEPWARM_SLACK_HISTORY_PER_MINUTE,
    claimTtlMs: env.KEEPWARM_DELIVERY_CLAIM_SECONDS * 1000,
    messagesPerSecond: env.KEEPWARM_SLACK_MESSAGES_PER_SECOND,
    calendar,
    clock: options.deliveryClock ?? systemClock,
    logger: log,
  });
  const webhooks = new WebhookSender({ store, clock: options.deliveryClock ?? systemClock, log: (m) => log.warn(m) });
  let webhookLoop: WebhookLoop | undefined;
  let loop: DeliveryLoop | undefined;
  const readChannel =
    env.KEEPWARM_READ_CHANNEL === undefined
      ? undefined
      : new ReadChannel(env.KEEPWARM_READ_CHANNEL, store, deliveryClient(token, env.SLACK_API_URL, 10_000), now, log);
  let evaluation: EvaluationLoop | undefined;
  const deps: BotDeps = { store, env, calendar, now, logger: log, readChannel, kickDelivery: () => loop?.kick() };

  app.use(replayGuardMiddleware(new ReplayGuard(), (m) => log.warn(m)));
  app.use(
    teamGuard(
      () => link.bot().then((identity) => identity?.teamId),
      (m) => log.warn(m),
    ),
  );
  registerListeners(app, deps);
  app.error(async (error) => {
    log.error(`listener failed: ${error.message}`);
  });

  if (socketReceiver !== undefined) {
    socketReceiver.client.on("connected", () => link.setSocket("ok"));
    socketReceiver.client.on("reconnecting", () => link.setSocket("connecting"));
    socketReceiver.client.on("disconnected", () => link.setSocket("connecting"));
  }

  let server: Server | undefined;
  let stopped = false;
  const bot: BotApp = {
    app,
    delivery,
    webhooks,
    mode: socketMode ? "socket" : "http",
    failed,
    slackStatus: () => link.status(),
    async start(port = env.PORT) {
      // Listen first: /healthz answers from the first second, whatever Slack does.
      // Request timestamps are checked against the real clock, as Bolt checks signatures.
      server = createHttpServer({
        store,
        now: () => Date.now(),
        ...(httpReceiver ? { slack: { signingSecret: env.SLACK_SIGNING_SECRET ?? "", listener: httpReceiver.requestListener } } : {}),
        slackStatus: () => link.status(),
        onRejected: (reason) => log.warn(reason),
        api: createApiHandler({ store, calendar, rateLimit: env.KEEPWARM_API_RATE_LIMIT, onError: (error) => log.error(`api: ${(error as Error).message}`) }),
      });
      const bound = await listen(server, port, options.host);
      try {
        // Bounded: a refused token throws its one line; an unreachable Slack is retried in the background.
        await link.start();
      } catch (error) {
        await bot.stop();
        throw error;
      }
      if (socketReceiver !== undefined) {
        // The socket client starts only once the app token is known good: refused, it
        // would retry forever in a half-dead process; unreachable, this waits for the
        // background re-check instead of Bolt's unbounded retries.
        const connected = link.appTokenAccepted().then(async () => {
          if (stopped) return;
          await app.start();
          // Stopped while connecting: the client finished its start anyway; close it.
          if (stopped) await app.stop();
        });
        connected.catch((error: Error) => log.error(`Socket Mode: ${error.message}`));
        await Promise.race([connected.catch(() => {}), new Promise((resolve) => setTimeout(resolve, SOCKET_CONNECT_WAIT_MS).unref())]);
      }
      if (options.deliveryLoop !== false && !stopped)
        loop = startDeliveryLoop(delivery, { logger: log, ...(options.deliveryIntervalMs ? { intervalMs: options.deliveryIntervalMs } : {}) });
      if (options.webhookLoop !== false && !stopped) webhookLoop = startWebhookLoop(webhooks, { log: (m) => log.info(m) });
      // Customers whose facts just changed (API, /touch, imports elsewhere): their nudges go out at once.
      if ((options.evaluationLoop ?? options.deliveryLoop !== false) && !stopped)
        evaluation = startEvaluationLoop(store, { calendar, log: (line) => log.info(line), onChange: () => loop?.kick() });
      return bound;
    },
    async stop() {
      stopped = true;
      link.stop();
      await evaluation?.stop();
      evaluation = undefined;
      await loop?.stop();
      loop = undefined;
      await webhookLoop?.stop();
      webhookLoop = undefined;
      if (socketReceiver !== undefined) await app.stop().catch((error: Error) => log.warn(`Socket Mode stop: ${error.message}`));
      if (server !== undefined) await closeServer(server);
    },
    kickDelivery: () => loop?.kick(),
  };
  return bot;
}
