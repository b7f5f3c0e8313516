import type { IncomingHttpHeaders } from "node:http";

export const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Slack's replay protection checks only that a request is not too old; one stamped
 * in the future would stay replayable until then. Refuse both directions.
 */
export function requestFreshness(headers: IncomingHttpHeaders, nowMs: number): { ok: true } | { ok: false; reason: string } {
  const raw = headers["x-slack-request-timestamp"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: "missing or malformed x-slack-request-timestamp" };
  const skew = Number(value) - Math.floor(nowMs / 1000);
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: "request timestamp is in the future" };
  if (skew < -MAX_SKEW_SECONDS) return { ok: false, reason: "request timestamp is stale" };
  return { ok: true };
}
