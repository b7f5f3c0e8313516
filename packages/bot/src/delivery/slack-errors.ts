import { webApi } from "@slack/bolt";
import { UnknownChannelError } from "./channel-directory";

export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number; message: string }
  /** Maybe posted, maybe not (5xx, network, timeout): retry after settling. `notSent`: the request never left (connection refused, no DNS). */
  | { kind: "transient"; message: string; notSent?: boolean }
  /** Slack said no (channel_not_found, not_in_channel, …): retrying will not help. */
  | { kind: "permanent"; message: string };

/** Network errors that mean the request never reached Slack: no outcome to settle. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

const TRANSIENT_API_ERRORS = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

export function classifySlackError(error: unknown): SlackFailure {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  const message = e?.message ?? String(error);
  if (error instanceof UnknownChannelError) return { kind: "permanent", message };
  switch (e?.code) {
    case webApi.ErrorCode.RateLimitedError:
      return { kind: "rate_limited", retryAfterMs: Math.max(1, e.retryAfter ?? 30) * 1000, message: `rate limited: retry after ${e.retryAfter ?? 30}s` };
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? "unknown_error";
      return TRANSIENT_API_ERRORS.has(code) ? { kind: "transient", message: `slack error ${code}` } : { kind: "permanent", message: `slack error ${code}` };
    }
    case webApi.ErrorCode.HTTPError:
      return (e.statusCode ?? 500) >= 500 || e.statusCode === 408
        ? { kind: "transient", message: `HTTP ${e.statusCode ?? "error"} from Slack` }
        : { kind: "permanent", message: `HTTP ${e.statusCode} from Slack` };
    default: {
      // Network errors, timeouts and anything unknown: assume Slack may recover.
      const cause = (error as { original?: { code?: string } })?.original?.code;
      return { kind: "transient", message: `request failed: ${message}`, ...(cause !== undefined && NOT_SENT.has(cause) ? { notSent: true } : {}) };
    }
  }
}

/** A Web API client for delivery: no hidden retries, 429s surface to us with Retry-After. */
export function deliveryClient(token: string, slackApiUrl: string, timeoutMs = 15_000): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
    logLevel: webApi.LogLevel.ERROR,
  });
}
