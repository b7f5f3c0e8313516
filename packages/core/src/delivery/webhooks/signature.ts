import { createHmac, randomBytes } from "node:crypto";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver recomputes it (docs/api.md). */
export const WEBHOOK_SIGNATURE_HEADER = "Keepwarm-Signature";
export const WEBHOOK_EVENT_ID_HEADER = "Keepwarm-Event-Id";
export const WEBHOOK_EVENT_TYPE_HEADER = "Keepwarm-Event-Type";

/**
 * The signature header of one attempt. The timestamp is signed with the body, so a
 * receiver that refuses old timestamps (docs: 5 minutes) also refuses a replayed
 * request; each attempt signs anew, the body stays the same.
 */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** A new signing secret: 32 random bytes, shown once by `keepwarm webhooks add`. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64url")}`;
