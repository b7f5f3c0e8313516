import { createHmac } from "node:crypto";

/** Slack's request signature: `v0=` + HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function slackSignature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestampSec}:${body}`).digest("hex")}`;
}

export interface SignedPostOptions {
  secret: string;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (forgery tests). */
  signature?: string;
  contentType?: "application/x-www-form-urlencoded" | "application/json";
}

/** POST a body to a Slack endpoint signed the way Slack signs it. */
export async function postSigned(url: string, body: string, options: SignedPostOptions): Promise<{ status: number; text: string; json: unknown }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": options.contentType ?? "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": options.signature ?? slackSignature(options.secret, timestamp, body),
    },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** A slash command as Slack sends it (form-encoded). */
export function slashCommandBody(fields: {
  command: string;
  text: string;
  user_id?: string;
  team_id?: string;
  response_url: string;
  trigger_id?: string;
  channel_id?: string;
}): string {
  return new URLSearchParams({
    token: "legacy-verification-token",
    team_id: fields.team_id ?? "T0TEST",
    team_domain: "test",
    channel_id: fields.channel_id ?? "C0GENERAL",
    channel_name: "general",
    user_id: fields.user_id ?? "U0REP",
    user_name: "rep",
    command: fields.command,
    text: fields.text,
    api_app_id: "A0KEEPWARM",
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? "trigger-1",
  }).toString();
}

/** An interactive payload (block_actions, view_submission, block_suggestion) as Slack sends it. */
export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
