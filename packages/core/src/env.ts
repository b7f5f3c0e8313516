import { Calendar } from "@keepwarm/rules";
import cron from "node-cron";
import { z } from "zod";

/** Configuration, parsed once at start-up: a bad value stops start-up with one line naming the variable. */
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

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
  PORT: z.coerce.number({ error: "must be a port number" }).int("must be a port number").min(0, "must be 0–65535").max(65535, "must be 0–65535").default(3000),
  KEEPWARM_SCHEDULE: z
    .string()
    .default("0 9 * * 1-5")
    .refine((v) => cron.validate(v), "is not a valid cron expression (e.g. \"0 9 * * 1-5\")"),
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
  KEEPWARM_ADMINS: optional.transform((v) => (v === undefined ? [] : v.split(",").map((s) => s.trim()).filter(Boolean))),
  KEEPWARM_FALLBACK_CHANNEL: optional,
  KEEPWARM_DIGEST_THRESHOLD: z.coerce.number().int().min(2, "must be at least 2").default(3),
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
