import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

// Kept-alive connections to the response_url host: Bolt's respond() opens a new
// connection (axios, no agent) per answer, which was half of the bot's CPU per /touch
// at 500 commands a second (connect, first write, close).
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 64 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };
const TIMEOUT_MS = 10_000;

/**
 * POST a slash command's answer to its response_url, as Bolt's respond() would (JSON
 * body, 30-minute validity on Slack's side), over a pooled connection. Rejects on a
 * non-2xx answer or a network error, so the caller can log it.
 */
export function postToResponseUrl(responseUrl: string, message: Record<string, unknown>): Promise<void> {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return Promise.reject(new Error("response_url is not a URL"));
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.reject(new Error(`response_url has protocol ${url.protocol}`));
  const body = JSON.stringify(message);
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: "POST",
        agent: secure ? agents.https : agents.http,
        headers: { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`response_url answered HTTP ${status}`));
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("response_url timed out")));
    req.on("error", reject);
    req.end(body);
  });
}
