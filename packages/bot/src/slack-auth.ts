import { UserError } from "@keepwarm/core";

/** How long one start-up check may take before the bot carries on without its answer. */
export const SLACK_CHECK_TIMEOUT_MS = 10_000;

export type SlackCallResult = { kind: "ok"; body: Record<string, unknown> } | { kind: "refused"; error: string } | { kind: "unreachable"; error: string };

/** Slack answers that mean "try again later", not "this token is wrong". */
const TRANSIENT_ERRORS = new Set(["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"]);

/**
 * One Web API call with a bounded time and no retries, that can be abandoned: start-up
 * checks must neither hang the bot (an unreachable or silent Slack) nor outlive a
 * SIGTERM. Says whether Slack accepted, refused (the token is wrong: stop) or could not
 * be asked (carry on, try again later).
 */
export async function callSlack(
  apiUrl: string,
  method: string,
  token: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<SlackCallResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? SLACK_CHECK_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(`${apiUrl}${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: "",
      signal,
    });
    if (response.status === 429 || response.status >= 500) return { kind: "unreachable", error: `HTTP ${response.status}` };
    const body = (await response.json()) as Record<string, unknown>;
    if (body.ok === true) return { kind: "ok", body };
    const error = typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
    return TRANSIENT_ERRORS.has(error) ? { kind: "unreachable", error } : { kind: "refused", error };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    if (timeout.aborted) {
      const ms = options.timeoutMs ?? SLACK_CHECK_TIMEOUT_MS;
      return { kind: "unreachable", error: `no answer within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}` };
    }
    if (options.signal?.aborted) return { kind: "unreachable", error: "stopped" };
    return { kind: "unreachable", error: e.cause?.code ?? e.message };
  }
}

export interface BotIdentity {
  teamId: string;
  botUserId?: string | undefined;
  botId?: string | undefined;
}

/** The bot token refused by Slack, as one line naming the variable. */
export const botTokenRefused = (error: string) =>
  new UserError(`SLACK_BOT_TOKEN was refused by Slack (${error}): use the Bot User OAuth Token (xoxb-…) of the installed app (see docs/slack.md)`);

/** The app-level token refused by Slack, as one line naming the variable. */
export const appTokenRefused = (error: string) =>
  new UserError(`SLACK_APP_TOKEN was refused by Slack (${error}): use an app-level token (xapp-…) with the connections:write scope (see docs/slack.md)`);

/** `auth.test` once: who the bot token belongs to. For `keepwarm doctor` and the bot's start. */
export async function checkBotToken(
  apiUrl: string,
  token: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ kind: "ok"; identity: BotIdentity } | { kind: "refused" | "unreachable"; error: string }> {
  const result = await callSlack(apiUrl, "auth.test", token, options);
  if (result.kind !== "ok") return result;
  const { team_id, user_id, bot_id } = result.body;
  if (typeof team_id !== "string") return { kind: "unreachable", error: "auth.test answered without a team_id" };
  return {
    kind: "ok",
    identity: { teamId: team_id, botUserId: typeof user_id === "string" ? user_id : undefined, botId: typeof bot_id === "string" ? bot_id : undefined },
  };
}
