import { Agent, request } from "node:http";
import { slackSignature } from "../packages/testkit/src/slack-signing";

/**
 * The open-loop load generator of the HTTP benchmarks: sends are scheduled on a timer
 * whatever the answers do, and latency is counted from the *scheduled* send time, so a
 * stalled server cannot hide its queueing (no coordinated omission). With `bodies`,
 * each request is a signed POST (Slack's v0 signature); without, a GET.
 */
export interface LoadOptions {
  url: string;
  path: string;
  rate: number;
  count: number;
  bodies: string[];
  secret: string;
  /** A request still unanswered after this is counted as a timeout (Slack gives up after 3 s). */
  timeoutMs: number;
  /** A bearer token: the bodies are JSON for the HTTP API instead of Slack-signed forms. */
  bearer?: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  /** From the scheduled send time to the end of the response, ms. */
  latencies: number[];
  /** Scheduled → actually sent: the generator's own lag. */
  maxSendLagMs: number;
  wallMs: number;
  cpuMs: number;
}

export async function openLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const { rate, path, count, bodies, secret, timeoutMs } = options;
  // One connection per in-flight request at most; kept alive as Slack's edge would.
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const timestamp = Math.floor(Date.now() / 1000);
  const prepared = bodies.map((body) => ({ body, signature: slackSignature(secret, timestamp, body) }));
  const result: LoadResult = { requests: count, ok: 0, errors: 0, timeouts: 0, statuses: {}, latencies: [], maxSendLagMs: 0, wallMs: 0, cpuMs: 0 };
  const cpu = process.cpuUsage();
  const start = performance.now() + 50;
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolveAll) => {
    const finish = (scheduled: number, status: number | "timeout" | "error") => {
      const latency = performance.now() - scheduled;
      result.latencies.push(latency);
      const key = String(status);
      result.statuses[key] = (result.statuses[key] ?? 0) + 1;
      if (status === 200) result.ok++;
      else if (status === "timeout") result.timeouts++;
      else result.errors++;
      if (++done === count) resolveAll();
    };
    const send = (i: number, scheduled: number) => {
      result.maxSendLagMs = Math.max(result.maxSendLagMs, performance.now() - scheduled);
      const item = prepared[i];
      let settled = false;
      const settle = (status: number | "timeout" | "error") => {
        if (settled) return;
        settled = true;
        finish(scheduled, status);
      };
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path,
          method: item ? "POST" : "GET",
          headers: item
            ? options.bearer !== undefined
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(item.body), authorization: `Bearer ${options.bearer}` }
              : {
                  "content-type": "application/x-www-form-urlencoded",
                  "content-length": Buffer.byteLength(item.body),
                  "x-slack-request-timestamp": String(timestamp),
                  "x-slack-signature": item.signature,
                }
            : {},
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => settle(res.statusCode ?? 0));
          res.on("error", () => settle("error"));
        },
      );
      req.on("timeout", () => {
        settle("timeout");
        req.destroy();
      });
      req.on("error", () => settle("error"));
      req.end(item?.body);
    };
    // Open loop: every tick sends whatever is due by now, answered or not.
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        send(i, start + (i * 1000) / rate);
      }
      if (sent < count) setTimeout(tick, 1);
    };
    setTimeout(tick, 50);
  });
  result.wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  result.cpuMs = (used.user + used.system) / 1000;
  agent.destroy();
  return result;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
