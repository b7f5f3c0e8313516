import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Calendar } from "@keepwarm/rules";
import { openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { type ApiOptions, createApiHandler, createApiToken, revokeToken } from "../src/index";

export const UTC = new Calendar("UTC");
export const DAY_MS = 86_400_000;
export const isoDaysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

export interface ApiFixture {
  store: Store;
  /** Secrets of tokens with every scope, with read only, and a revoked one. */
  tokens: { all: string; read: string; revoked: string };
  /** Start another server on the same store (e.g. with a low rate limit); closed with the fixture. */
  serve(options?: Partial<ApiOptions>): Promise<string>;
  base: string;
  close(): Promise<void>;
}

/** A fresh database of the engine under test, tokens, and the API listening on 127.0.0.1 (port 0). */
export async function apiFixture(): Promise<ApiFixture> {
  const tmp = tempDir("keepwarm-api-");
  const store = await openStore(await migratedDatabase(tmp));
  const tokens = {
    all: (await createApiToken(store, "all", ["ingest", "read", "act"])).secret,
    read: (await createApiToken(store, "reader", ["read"])).secret,
    revoked: (await createApiToken(store, "gone", ["ingest", "read", "act"])).secret,
  };
  await revokeToken(store, "gone");
  const servers: Server[] = [];
  const serve = async (options: Partial<ApiOptions> = {}) => {
    const server = createServer(createApiHandler({ store, calendar: UTC, ...options }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const base = await serve();
  return {
    store,
    tokens,
    serve,
    base,
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await store.close();
      tmp.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read whatever JSON came back
  body: any;
}

/** One request to the API; `body` is sent as JSON unless it is a string already. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(`${base}${path}`, { method, headers: { ...headers, ...options.headers }, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the assertion shows the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export async function countRows(store: Store, table: "customers" | "touchpoints" | "nps_responses" | "purchases"): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
