import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { UserError } from "@keepwarm/core";
import type { Calendar } from "@keepwarm/rules";
import { type ApiToken, findIdempotentAnswer, isDatabaseUnavailable, type Store, saveIdempotentAnswer } from "@keepwarm/store";
import type { z } from "zod";
import { openApiDocument } from "./openapi";
import { RateLimiter } from "./rate-limit";
import { readBodyWithin } from "./read-body";
import { ApiError, type Answer, ROUTES, type Route } from "./routes";
import { scopesOf, TokenCache } from "./tokens";

/** A batch of 1,000 touches with long notes is well under this; anything bigger is refused unread. */
export const MAX_API_BODY_BYTES = 2_000_000;
/** How long an Idempotency-Key's answer is kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** Requests per second per token (and the burst), unless KEEPWARM_API_RATE_LIMIT says otherwise. */
export const DEFAULT_RATE_LIMIT = 1000;

export interface ApiOptions {
  store: Store;
  calendar: Calendar;
  now?: () => number;
  /** Requests per second per token (also the burst). */
  rateLimit?: number;
  maxBodyBytes?: number;
  /** A request that failed on our side (a 500): logged, never shown to the client in detail. */
  onError?: (error: unknown) => void;
}

/** `(req, res)` for everything under /api/v1, to mount on an HTTP server. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

/** The route for a method and path, with its path parameters; or why none. */
function match(method: string, path: string): { route: Route; params: Record<string, string> } | { status: 404 | 405 } {
  const segments = path.split("/");
  let allowed = false;
  for (const route of ROUTES) {
    const pattern = route.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let same = true;
    for (let i = 0; i < pattern.length && same; i++) {
      const part = pattern[i] as string;
      const segment = segments[i] as string;
      if (part.startsWith("{")) {
        try {
          params[part.slice(1, -1)] = decodeURIComponent(segment);
        } catch {
          same = false;
        }
        if (segment === "") same = false;
      } else same = part === segment;
    }
    if (!same) continue;
    if (route.method === method) return { route, params };
    allowed = true;
  }
  return { status: allowed ? 405 : 404 };
}

/** zod's first complaint as one line naming the field. */
function firstIssue(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return `${where} is invalid`;
  if (issue.code === "unrecognized_keys")
    return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  const path = issue.path.map(String).join(".");
  return `${where}${path === "" ? "" : `.${path}`}: ${issue.message}`;
}

/**
 * The HTTP API: authenticate (401), check the scope (403) and the rate (429), read and
 * parse the body (413, 415, 400), replay an Idempotency-Key's first answer, then run
 * the route. Every client mistake is a 4xx with `{ error }` and changes nothing; a
 * fault of ours is a 500 with a generic line (details go to onError).
 */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const now = options.now ?? Date.now;
  const limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const max = options.maxBodyBytes ?? MAX_API_BODY_BYTES;
  const openapi = JSON.stringify(openApiDocument());
  const tokens = new TokenCache();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    if (url.pathname === "/api/v1/openapi.json") {
      if (method !== "GET" && method !== "HEAD") return send(res, 405, { error: "GET only" });
      return send(res, 200, openapi);
    }
    const found = match(method, url.pathname);
    if ("status" in found)
      return send(res, found.status, { error: found.status === 404 ? `no route ${url.pathname.slice(0, 200)}` : `${method} is not allowed here` });
    const { route, params } = found;
    const at = now();
    const token = await tokens.authenticate(options.store, req.headers.authorization, at);
    if (token === undefined)
      return send(res, 401, { error: "missing, unknown or revoked token (Authorization: Bearer kw_…)" }, { "www-authenticate": "Bearer" });
    if (!scopesOf(token).includes(route.scope)) return send(res, 403, { error: `token "${token.name}" lacks the ${route.scope} scope` });
    const wait = limiter.take(token.id, at);
    if (wait > 0)
      return send(res, 429, { error: `over ${limiter.perSecond} requests per second for this token; retry after ${wait} s` }, { "retry-after": String(wait) });

    const query = route.query?.safeParse(Object.fromEntries(url.searchParams));
    if (query !== undefined && !query.success) return send(res, 400, { error: firstIssue(query.error, "query") });
    if (route.query === undefined && [...url.searchParams.keys()].length > 0) return send(res, 400, { error: "this route takes no query parameters" });

    let body: unknown;
    let raw: Buffer = Buffer.alloc(0);
    if (method === "POST") {
      if (Number(req.headers["content-length"] ?? 0) > max) return refuseBody(req, res, max);
      const read = await readBodyWithin(req, max);
      if (read === undefined) return refuseBody(req, res, max);
      raw = read;
      const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      if (raw.length > 0 && type !== "application/json") return send(res, 415, { error: "send the body as JSON (Content-Type: application/json)" });
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
      } catch (error) {
        return send(res, 400, { error: `malformed JSON: ${(error as Error).message.split("\n")[0]}` });
      }
      const schema = route.parseBody ?? route.body;
      if (schema !== undefined) {
        const parsed = schema.safeParse(body);
        if (!parsed.success) return send(res, 400, { error: firstIssue(parsed.error, "body") });
        body = parsed.data;
      }
    }

    const key = req.headers["idempotency-key"];
    if (method === "POST" && key !== undefined) {
      if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) return send(res, 400, { error: "Idempotency-Key must be 1–200 printable ASCII characters" });
      return idempotent(options.store, token, key, createHash("sha256").update(`${method} ${url.pathname}\n`).update(raw).digest("hex"), at, res, () =>
        run(route, { store: options.store, now: at, calendar: options.calendar, token, params, query: query?.data, body }),
      );
    }
    const answer = await run(route, { store: options.store, now: at, calendar: options.calendar, token, params, query: query?.data, body });
    send(res, answer.status, answer.body);
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // An overloaded or restarting database is not our bug: the client should come back.
      if (isDatabaseUnavailable(error)) return send(res, 503, { error: "the database is busy or unreachable; retry shortly" }, { "retry-after": "1" });
      options.onError?.(error);
      send(res, 500, { error: "internal error; the request may be retried" });
    });
  };
}

/** Run a route; a client's mistake it finds (ApiError, UserError) becomes its 4xx answer. */
async function run(route: Route, ctx: Parameters<Route["handle"]>[0]): Promise<Answer> {
  try {
    return await route.handle(ctx);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: { error: error.message } };
    if (error instanceof UserError) return { status: 400, body: { error: error.message.split("\n")[0] } };
    throw error;
  }
}

/**
 * With an Idempotency-Key: the first answer to this token and key is kept for a day and
 * given again to a retry of the same request (same method, path and body bytes), which
 * changes nothing. The same key with a different request is a client bug: 422.
 * Answers of ours that failed (5xx) are not kept, so a retry runs again.
 */
async function idempotent(
  store: Store,
  token: ApiToken,
  key: string,
  requestHash: string,
  now: number,
  res: ServerResponse,
  work: () => Promise<Answer>,
): Promise<void> {
  const earlier = await findIdempotentAnswer(store.db, token.id, key, now - IDEMPOTENCY_TTL_MS);
  if (earlier !== undefined) {
    if (earlier.request_hash !== requestHash) return send(res, 422, { error: "this Idempotency-Key was used for a different request" });
    return send(res, earlier.status, earlier.response, { "idempotent-replayed": "true" });
  }
  const answer = await work();
  const response = JSON.stringify(answer.body);
  if (answer.status < 500) {
    await saveIdempotentAnswer(
      store.db,
      { token_id: token.id, key, request_hash: requestHash, status: answer.status, response, created_at: now },
      now - IDEMPOTENCY_TTL_MS,
    );
  }
  send(res, answer.status, response);
}

/** Answer 413 without reading the rest: the client's sending stalls, and the connection closes shortly after. */
function refuseBody(req: IncomingMessage, res: ServerResponse, max: number): void {
  req.pause();
  send(res, 413, { error: `body over ${max} bytes (send at most 1,000 items per request)` }, { connection: "close" });
  const timer = setTimeout(() => req.socket.destroy(), 2_000);
  timer.unref();
  req.socket.once("close", () => clearTimeout(timer));
}
