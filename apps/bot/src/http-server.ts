import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Store } from "@keepwarm/store";
import { health } from "./health";
import { requestFreshness } from "./security/request-freshness";

const MAX_BODY_BYTES = 1_000_000;

export interface HttpServerOptions {
  store: Store;
  now: () => number;
  /** Bolt's receiver; undefined in Socket Mode (then only /healthz is served). */
  slackListener?: (req: IncomingMessage, res: ServerResponse) => void;
  onRejected?: (reason: string) => void;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * The bot's HTTP face: GET /healthz, and POST /slack/events handed to Bolt after the
 * checks Bolt does not do (future timestamps, absurd bodies).
 */
export function createHttpServer(options: HttpServerOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
        void health(options.store).then((report) => send(res, report.ok ? 200 : 503, report));
        return;
      }
      if (path === "/slack/events" && options.slackListener !== undefined) {
        if (req.method !== "POST") return send(res, 405, { error: "POST only" });
        if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return send(res, 413, { error: "body too large" });
        const fresh = requestFreshness(req.headers, options.now());
        if (!fresh.ok) {
          options.onRejected?.(fresh.reason);
          res.writeHead(401);
          res.end();
          return;
        }
        options.slackListener(req, res);
        return;
      }
      send(res, 404, { error: "not found" });
    } catch (error) {
      if (!res.headersSent) send(res, 500, { error: (error as Error).message });
    }
  });
}

export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
