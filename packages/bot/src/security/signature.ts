import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? undefined : value;
};

/**
 * Slack's request signature: `v0=` + HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
 * signing secret, compared in constant time. Checked here, on the bytes read under the
 * body limit, before anything parses the body or remembers it (the replay guard keys on
 * signed bodies only, so a forger cannot poison it). Bolt checks it again; it is cheap.
 */
export function hasValidSignature(secret: string, headers: IncomingHttpHeaders, body: Buffer): boolean {
  const signature = header(headers, "x-slack-signature");
  const timestamp = header(headers, "x-slack-request-timestamp");
  if (signature === undefined || timestamp === undefined || !/^v0=[0-9a-f]{64}$/.test(signature)) return false;
  const hmac = createHmac("sha256", secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  const expected = Buffer.from(`v0=${hmac.digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
