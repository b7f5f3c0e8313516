import { parse } from "node:querystring";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export type BodyCheck = { ok: true; sslCheck: boolean } | { ok: false; reason: string };

/**
 * Whether a (signed) body is something Slack sends, read exactly as Bolt will read it:
 * form fields when the content type is exactly form-encoded (a slash command, or an
 * interactive `payload=<JSON object>`), else a JSON object (Events API). Bolt trusts the
 * shape: a signed `payload=null` made it read `null.ssl_check` outside any handler and
 * crashed the process; `payload=[]` or `{}` held the request for 3 seconds. These get 400.
 */
export function checkSlackBody(contentType: string | undefined, body: Buffer): BodyCheck {
  const text = body.toString("utf8");
  if (contentType === "application/x-www-form-urlencoded") {
    const fields = parse(text);
    if (fields.ssl_check === "1") return { ok: true, sslCheck: true };
    if ("payload" in fields) {
      const payload = typeof fields.payload === "string" ? parseJsonObject(fields.payload) : undefined;
      if (payload === undefined) return { ok: false, reason: "payload is not a JSON object" };
      if (typeof payload.type !== "string") return { ok: false, reason: "payload has no type" };
      return { ok: true, sslCheck: false };
    }
    if (typeof fields.command !== "string") return { ok: false, reason: "neither a command nor a payload" };
    return { ok: true, sslCheck: false };
  }
  const json = parseJsonObject(text);
  if (json === undefined) return { ok: false, reason: "body is not a JSON object" };
  if (typeof json.type !== "string") return { ok: false, reason: "body has no type" };
  return { ok: true, sslCheck: false };
}
