import http from "node:http";
import https from "node:https";

export interface PostAnswer {
  /** The receiver's HTTP status, or null when none came (refused, reset, timed out). */
  status: number | null;
  /** Why it is not a success, in one line (null on a 2xx). */
  error: string | null;
}

/** Bytes of a receiver's answer read at most: enough to show why it failed, never a memory risk. */
export const MAX_ANSWER_BYTES = 2048;

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim().slice(0, 200);

/**
 * POST one webhook body. Redirects are not followed (a 3xx is a failure: a receiver
 * must not be able to send the signed body elsewhere); the whole exchange, answer
 * included, must end within `timeoutMs`, and at most MAX_ANSWER_BYTES of the answer
 * are read. Never throws: every outcome is an answer.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const finish = (answer: PostAnswer, destroy: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (destroy) request?.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ status: null, error: `no answer within ${timeoutMs / 1000} s` }, true), timeoutMs);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ status: null, error: "not a valid URL" }, false);
      return;
    }
    const client = target.protocol === "https:" ? https : target.protocol === "http:" ? http : undefined;
    if (client === undefined) {
      finish({ status: null, error: `unsupported protocol ${target.protocol}` }, false);
      return;
    }
    request = client.request(target, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), "User-Agent": "keepwarm-webhooks/1" },
    });
    request.on("error", (error: NodeJS.ErrnoException) => finish({ status: null, error: oneLine(error.code ?? error.message) }, true));
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (): PostAnswer => {
        if (status >= 200 && status < 300) return { status, error: null };
        if (status >= 300 && status < 400)
          return {
            status,
            error: `HTTP ${status}: redirects are not followed${response.headers.location ? ` (to ${oneLine(response.headers.location)})` : ""}`,
          };
        const text = oneLine(Buffer.concat(chunks).toString("utf8"));
        return { status, error: `HTTP ${status}${text ? `: ${text}` : ""}` };
      };
      response.on("data", (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
        size += chunk.length;
        // Enough read: the rest is not waited for (a receiver streaming forever cannot hold us).
        if (size >= MAX_ANSWER_BYTES) finish(answer(), true);
      });
      response.on("end", () => finish(answer(), false));
      response.on("error", () => finish(answer(), true));
    });
    request.end(body);
  });
}
