import { webApi } from "@slack/bolt";

export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number; message: string }
  /** Maybe posted, maybe not (5xx, network, timeout): retry after reconciling. */
  | { kind: "transient"; message: string }
  /** Slack said no (channel_not_found, not_in_channel, …): retrying will not help. */
  | { kind: "permanent"; message: string };

const TRANSIENT_API_ERRORS = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

export function classifySlackError(error: unknown): SlackFailure {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  const message = e?.message ?? String(error);
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
    default:
      // Network errors, timeouts and anything unknown: assume Slack may recover.
      return { kind: "transient", message: `request failed: ${message}` };
  }
}

/** A Web API client for delivery: no hidden retries, 429s surface to us with Retry-After. */
export function deliveryClient(token: string, slackApiUrl: string): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 15_000,
    logLevel: webApi.LogLevel.ERROR,
  });
}
