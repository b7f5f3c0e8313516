import { readBodyWithin } from "@keepwarm/api";
import { UserError } from "@keepwarm/core";
import type { Store } from "@keepwarm/store";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { health } from "./health";
import { checkSlackBody } from "./security/body-shape";
import { requestFreshness } from "./security/request-freshness";
import { hasValidSignature } from "./security/signature";

/** Slack's payloads are a few KB; its own limit for a view is far below this. */
export const MAX_BODY_BYTES = 1_000_000;
/** A whole request (headers and body) must arrive within this: a trickling client holds nothing for long. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpServerOptions {
  store: Store;
  now: () => number;
  /** HTTP mode: the signing secret and Bolt's receiver. Absent in Socket Mode (then only /healthz is served). */
  slack?: { signingSecret: string; listener: (req: IncomingMessage, res: ServerResponse) => void };
  /** Slack's state for /healthz: connecting, ok, error: … */
  slackStatus?: () => string;
  onRejected?: (reason: string) => void;
  maxBodyBytes?: number;
  /** The HTTP API (packages/api): everything under /api/ is handed to it. */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

/** After refusing a body, how long the connection stays open (not read) so the client gets the answer. */
const LINGER_MS = 2_000;

/**
 * Refuse a request whose body we will not read (too large, unauthenticated): answer, and
 * read nothing more. Closing at once would reset the connection while the client is
 * still sending, and it would often see the reset rather than the answer; so the
 * connection is left unread (the client's sending stalls on TCP backpressure, nothing is
 * received into memory) for LINGER_MS, then closed whatever the client does.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  req.pause();
  send(res, status, body);
  if (req.complete) return;
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/**
 * The bot's HTTP face: GET /healthz, the HTTP API under /api/ (its own checks, see
 * packages/api), and POST /slack/events handed to Bolt after the
 * checks Bolt does not do, in this order: future timestamps; the body limit, counted
 * while reading; the signature, on the bytes read; the body's shape (Bolt crashes on a
 * signed `payload=null`). Bolt then gets the body already read and verifies it again.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const max = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
        void health(options.store).then(
          (report) => send(res, report.ok ? 200 : 503, { ...report, ...(options.slackStatus ? { slack: options.slackStatus() } : {}) }),
          (error: unknown) => {
            if (!res.headersSent) send(res, 500, { error: (error as Error).message });
          },
        );
        return;
      }
      if (options.api !== undefined && (path === "/api" || path?.startsWith("/api/"))) return options.api(req, res);
      const slack = options.slack;
      if (path === "/slack/events" && slack !== undefined) {
        if (req.method !== "POST") return refuse(req, res, 405, { error: "POST only" });
        // A declared size over the limit is refused before reading; a chunked or lying body is counted below.
        if (Number(req.headers["content-length"] ?? 0) > max) return refuse(req, res, 413, { error: "body too large" });
        const fresh = requestFreshness(req.headers, options.now());
        if (!fresh.ok) {
          options.onRejected?.(`401: ${fresh.reason}`);
          return refuse(req, res, 401, { error: "unauthorized" });
        }
        readBodyWithin(req, max).then(
          (body) => {
            if (body === undefined) {
              options.onRejected?.(`413: body over ${max} bytes`);
              return refuse(req, res, 413, { error: "body too large" });
            }
            const contentType = req.headers["content-type"];
            const shape = checkSlackBody(contentType, body);
            // Slack's ssl_check is unsigned by design; Bolt answers it and does nothing else.
            if (!(shape.ok && shape.sslCheck) && !hasValidSignature(slack.signingSecret, req.headers, body)) {
              options.onRejected?.("401: bad or missing x-slack-signature");
              return send(res, 401, { error: "unauthorized" });
            }
            if (!shape.ok) {
              options.onRejected?.(`400: ${shape.reason}`);
              return send(res, 400, { error: shape.reason });
            }
            // Bolt reads `rawBody` when present instead of reading the stream again.
            (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
            slack.listener(req, res);
          },
          () => {
            if (!res.headersSent) send(res, 400, { error: "request body could not be read" }, { connection: "close" });
          },
        );
        return;
      }
      refuse(req, res, 404, { error: "not found" });
    } catch (error) {
      if (!res.headersSent) send(res, 500, { error: (error as Error).message });
    }
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(server.headersTimeout, REQUEST_TIMEOUT_MS);
  return server;
}

/** Listen, or fail with one line naming PORT (in use, or not allowed). */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        reject(new UserError(`PORT ${port} is already in use${host ? ` on ${host}` : ""}: stop the other process or set PORT to a free port`));
      else if (error.code === "EACCES") reject(new UserError(`PORT ${port} is not allowed for this user: use a port above 1023`));
      else if (error.code === "EADDRNOTAVAIL") reject(new UserError(`cannot listen on ${host}:${port}: that address is not on this machine`));
      else reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stop listening; connections still busy after a short grace are closed, so a stop is prompt. */
export async function closeServer(server: Server, graceMs = 2_000): Promise<void> {
  if (!server.listening) return;
  server.closeIdleConnections();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}
