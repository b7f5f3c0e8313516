import { Calendar, SLACK_USER_ID } from "@keepwarm/rules";
import cron from "node-cron";
import { z } from "zod";

/** Configuration, parsed once at start-up: a bad value stops start-up with one line naming the variable. */
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const CHANNEL = /^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,20})$/;
const CHANNEL_MESSAGE = 'must be a channel name like "#cs-leads" or a channel id like "C0123ABCD"';
const WHOLE = "must be a whole number ≥ 1";

/** "U_REP:U_MANAGER,…" → rep → manager; a malformed pair stops start-up naming itself. */
function parseManagers(value: string | undefined, ctx: z.RefinementCtx): Record<string, string> {
  const managers: Record<string, string> = {};
  if (value === undefined) return managers;
  const pairs = value.split(",").map((s) => s.trim());
  for (const pair of pairs.filter(Boolean)) {
    const [rep, manager, extra] = pair.split(":").map((s) => s.trim());
    if (rep === undefined || manager === undefined || extra !== undefined || !SLACK_USER_ID.test(rep) || !SLACK_USER_ID.test(manager)) {
      ctx.addIssue({ code: "custom", message: `"${pair}" is not REP_USER_ID:MANAGER_USER_ID (e.g. U0123REP:U0456MGR)` });
      return managers;
    }
    managers[rep] = manager;
  }
  return managers;
}

const envSchema = z.object({
  KEEPWARM_DB: z.string().trim().min(1, "must not be empty").default("./data/keepwarm.db"),
  SLACK_BOT_TOKEN: optional,
  SLACK_SIGNING_SECRET: optional,
  SLACK_APP_TOKEN: optional.refine((v) => v === undefined || v.startsWith("xapp-"), 'must be an app-level token starting with "xapp-"'),
  SLACK_API_URL: z
    .string()
    .default("https://slack.com/api/")
    .refine((v) => {
      try {
        const url = new URL(v);
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    }, "must be an http(s) URL like https://slack.com/api/")
    .transform((v) => (v.endsWith("/") ? v : `${v}/`)),
  // An empty PORT= would coerce to 0 (a random port): a service nobody can reach.
  PORT: z
    .string()
    .default("3000")
    .transform((v, ctx) => {
      const port = Number(v);
      const message =
        v.trim() === ""
          ? "is empty: set a port number (e.g. 3000) or remove the variable"
          : !Number.isInteger(port)
            ? "must be a port number"
            : port < 0 || port > 65535
              ? "must be 0–65535"
              : undefined;
      if (message === undefined) return port;
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }),
  KEEPWARM_SCHEDULE: z
    .string()
    .default("0 9 * * 1-5")
    .refine((v) => cron.validate(v), 'is not a valid cron expression (e.g. "0 9 * * 1-5")'),
  KEEPWARM_TZ: z
    .string()
    .default("UTC")
    .refine((v) => {
      try {
        Calendar.assertValidZone(v);
        return true;
      } catch {
        return false;
      }
    }, 'is not a known time zone (use an IANA name like "Europe/Paris")'),
  KEEPWARM_ADMINS: optional.transform((v) =>
    v === undefined
      ? []
      : v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
  ),
  KEEPWARM_FALLBACK_CHANNEL: optional,
  KEEPWARM_DIGEST_THRESHOLD: z.coerce.number().int().min(2, "must be at least 2").default(3),
  // Per rep and calendar day; the rest stay queued for the next day (highest priority first).
  KEEPWARM_MAX_NUDGES_PER_DAY: z.coerce.number({ error: WHOLE }).int(WHOLE).min(1, WHOLE).default(20),
  // conversations.history calls Slack allows the app per minute: 1 for apps outside the Marketplace since 2025 (docs/slack.md).
  KEEPWARM_SLACK_HISTORY_PER_MINUTE: z.coerce.number({ error: WHOLE }).int(WHOLE).min(1, WHOLE).max(100, "must be at most 100").default(1),
  // How long a bot's claim on outbox items holds without renewal: a killed bot's items pass to
  // another replica after this. At least 30 s: a claim must outlive a Slack call (15 s timeout).
  KEEPWARM_DELIVERY_CLAIM_SECONDS: z.coerce
    .number({ error: WHOLE })
    .int(WHOLE)
    .min(30, "must be at least 30 (a claim must outlive a 15 s Slack call)")
    .max(3600, "must be at most 3600")
    .default(60),
  // Slack writes per second for the whole workspace, across every process (docs/slack.md: Pace and backoff).
  KEEPWARM_SLACK_MESSAGES_PER_SECOND: z.coerce
    .number({ error: "must be a number of messages per second, e.g. 4" })
    .positive("must be more than 0")
    .max(1000, "must be at most 1000")
    .default(4),
  KEEPWARM_MANAGERS: optional.transform((v, ctx) => parseManagers(v, ctx)),
  KEEPWARM_ESCALATION_CHANNEL: optional.refine((v) => v === undefined || CHANNEL.test(v), CHANNEL_MESSAGE),
  // Members of this channel may read every customer from Slack, and act only on their own (docs/slack.md).
  KEEPWARM_READ_CHANNEL: optional.refine((v) => v === undefined || CHANNEL.test(v), CHANNEL_MESSAGE),
  // Requests per second per API token, and its burst (the HTTP API, docs/api.md).
  KEEPWARM_API_RATE_LIMIT: z.coerce.number({ error: WHOLE }).int(WHOLE).min(1, WHOLE).default(1000),
});

export type Env = z.output<typeof envSchema>;

export class EnvError extends Error {
  override name = "EnvError";
}

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    const raw = source[name];
    throw new EnvError(`${name}${raw === undefined ? "" : `="${raw}"`}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}
