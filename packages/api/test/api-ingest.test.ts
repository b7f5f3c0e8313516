import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findApiTokenByName, revokeApiToken } from "@keepwarm/store";
import { createApiToken, revokeToken, TOKEN_RECHECK_MS } from "../src/index";
import { type ApiFixture, apiFixture, call, countRows, isoDaysAgo } from "./api-fixture";

let fx: ApiFixture;
beforeEach(async () => {
  fx = await apiFixture();
});
afterEach(() => fx.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}, token = fx.tokens.all) =>
  call(fx.base, "POST", `/api/v1${path}`, { token, body, headers });
const statuses = (reply: { body: { items: Array<{ status: string }> } }) => reply.body.items.map((item) => item.status);
const customers = (ids: string[]) => ids.map((id) => ({ id, name: `Customer ${id}`, segment: "SMB", since: isoDaysAgo(400).slice(0, 10) }));

describe("ingest answers per item, with the CSV import's validation and dedupe", () => {
  it("upserts customers by id with attributes: created, then already present, then updated", async () => {
    const first = await post("/customers", {
      items: [...customers(["C-1", "C-2"]), { id: "C-3", name: "Three", attributes: { plan: "pro", seats: 12, trial: false } }],
    });
    expect(first.status).toBe(200);
    expect(statuses(first)).toEqual(["created", "created", "created"]);
    expect(statuses(await post("/customers", { items: customers(["C-1", "C-2"]) }))).toEqual(["already_present", "already_present"]);
    const renamed = await post("/customers", {
      items: [
        { id: "C-1", name: "Renamed" },
        { id: "C-3", name: "Three", attributes: { seats: null } },
      ],
    });
    expect(renamed.body.counts).toEqual({ created: 0, updated: 2, already_present: 0, invalid: 0 });
    const c1 = await call(fx.base, "GET", "/api/v1/customers/C-1", { token: fx.tokens.read });
    // Only the fields sent change: the segment stays, lower-cased as the CSV import stores it.
    expect(c1.body.customer).toMatchObject({ id: "C-1", name: "Renamed", segment: "smb" });
    const c3 = await call(fx.base, "GET", "/api/v1/customers/C-3", { token: fx.tokens.read });
    expect(c3.body.customer.attributes).toEqual({ plan: "pro", trial: false });
  });

  it("stores every event once: identical items in one request are distinct events, the same request again adds nothing", async () => {
    await post("/customers", { items: customers(["C-1", "C-2"]) });
    // Two identical calls in one request are two calls, as two identical rows in one CSV file.
    const touch = { customer_id: "C-1", occurred_at: isoDaysAgo(3), kind: "call", note: "renewal talk" };
    const batch = { items: [touch, touch, { customer_id: "C-2", occurred_at: isoDaysAgo(1).slice(0, 10) }] };
    expect(statuses(await post("/touches", batch))).toEqual(["created", "created", "created"]);
    expect(statuses(await post("/touches", batch))).toEqual(["already_present", "already_present", "already_present"]);
    expect(statuses(await post("/touches", { items: [touch] }))).toEqual(["already_present"]);
    expect(statuses(await post("/touches", { items: [touch, touch, touch] }))).toEqual(["already_present", "already_present", "created"]);
    expect(await countRows(fx.store, "touchpoints")).toBe(4);

    const nps = { customer_id: "C-1", responded_at: isoDaysAgo(2), score: 3, comment: "slow support" };
    expect(statuses(await post("/nps", { items: [nps, { ...nps, customer_id: "C-2", score: "9" }] }))).toEqual(["created", "created"]);
    expect(statuses(await post("/nps", { items: [nps] }))).toEqual(["already_present"]);
    expect(await countRows(fx.store, "nps_responses")).toBe(2);

    // As in a CSV import: without an order id, two identical purchases in one batch are two
    // purchases, and the same batch again adds neither; with one, the order is the purchase.
    const purchase = { customer_id: "C-2", occurred_at: isoDaysAgo(5), amount: 1234.5 };
    const pair = [purchase, { ...purchase, amount: "1234.50" }];
    expect(statuses(await post("/purchases", { items: pair }))).toEqual(["created", "created"]);
    expect(statuses(await post("/purchases", { items: pair }))).toEqual(["already_present", "already_present"]);
    const order = { ...purchase, occurred_at: isoDaysAgo(4), order_id: "SO-1" };
    expect(statuses(await post("/purchases", { items: [order, order] }))).toEqual(["created", "already_present"]);
    expect(await countRows(fx.store, "purchases")).toBe(3);
  });

  it("an invalid item rejects the whole batch, naming its JSON path and reason; partial writes the valid ones", async () => {
    await post("/customers", { items: customers(["C-1"]) });
    const items = [
      { customer_id: "C-1", responded_at: isoDaysAgo(1), score: 8 },
      { customer_id: "C-1", responded_at: isoDaysAgo(2), score: 11 },
      { customer_id: "NOPE", responded_at: isoDaysAgo(3), score: 5 },
      { customer_id: "C-1", responded_at: isoDaysAgo(4), score: 5, colour: "red" },
      { customer_id: "C-1", responded_at: "yesterday-ish", score: 5 },
      { customer_id: 42, responded_at: isoDaysAgo(5), score: 5 },
    ];
    const rejected = await post("/nps", { items });
    expect(rejected.status).toBe(422);
    expect(rejected.body.committed).toBe(false);
    expect(await countRows(fx.store, "nps_responses")).toBe(0);
    const errors = rejected.body.items.flatMap((item: { errors?: Array<{ path: string; message: string }> }) => item.errors ?? []);
    expect(errors.map((e: { path: string }) => e.path)).toEqual([
      "$.items[1].score",
      "$.items[2].customer_id",
      "$.items[3].colour",
      "$.items[4].responded_at",
      "$.items[5].customer_id",
    ]);
    expect(errors[0].message).toContain("is not a whole number from 0 to 10");
    expect(errors[1].message).toContain('unknown customer "NOPE"');

    const partial = await post("/nps", { items, partial: true });
    expect(partial.status).toBe(200);
    expect(partial.body.counts).toEqual({ created: 1, updated: 0, already_present: 0, invalid: 5 });
    expect(await countRows(fx.store, "nps_responses")).toBe(1);
  });

  it("refuses a touch in the future and keeps SQL and script text as plain text", async () => {
    const nasty = "'); DROP TABLE customers; -- <script>alert(1)</script>";
    expect((await post("/customers", { items: [{ id: nasty, name: nasty, segment: nasty, attributes: { [nasty]: nasty } }] })).status).toBe(200);
    const future = await post("/touches", { items: [{ customer_id: nasty, occurred_at: new Date(Date.now() + 3 * 86_400_000).toISOString(), note: nasty }] });
    expect(future.status).toBe(422);
    expect(future.body.items[0].errors[0]).toMatchObject({ path: "$.items[0].occurred_at", message: expect.stringContaining("is in the future") });
    expect((await post("/touches", { items: [{ customer_id: nasty, occurred_at: isoDaysAgo(1), note: nasty }] })).status).toBe(200);
    const read = await call(fx.base, "GET", `/api/v1/customers/${encodeURIComponent(nasty)}`, { token: fx.tokens.read });
    expect(read.body.customer).toMatchObject({ id: nasty, name: nasty, attributes: { [nasty]: nasty } });
    expect(await countRows(fx.store, "customers")).toBe(1);
  });
});

describe("Idempotency-Key", () => {
  it("a retried request gets the first answer again and writes nothing more; the key with another body is refused", async () => {
    await post("/customers", { items: customers(["C-1"]) });
    const batch = { items: [{ customer_id: "C-1", occurred_at: isoDaysAgo(2), kind: "email" }] };
    const first = await post("/touches", batch, { "idempotency-key": "sync-2026-12-01-0001" });
    expect(statuses(first)).toEqual(["created"]);
    const retry = await post("/touches", batch, { "idempotency-key": "sync-2026-12-01-0001" });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    // The same answer as the first time (created), not a second evaluation (already present).
    expect(retry.body).toEqual(first.body);
    expect(await countRows(fx.store, "touchpoints")).toBe(1);
    const other = await post("/touches", { items: [{ customer_id: "C-1", occurred_at: isoDaysAgo(3) }] }, { "idempotency-key": "sync-2026-12-01-0001" });
    expect(other.status).toBe(422);
    expect(other.body.error).toContain("different request");
    expect(await countRows(fx.store, "touchpoints")).toBe(1);
  });
});

describe("tokens, scopes and limits", () => {
  it("a missing, wrong or revoked token gets 401 and an under-scoped one 403; nothing is written", async () => {
    const batch = { items: customers(["C-1"]) };
    expect((await call(fx.base, "POST", "/api/v1/customers", { body: batch })).status).toBe(401);
    expect((await post("/customers", batch, {}, "kw_not-a-real-token")).status).toBe(401);
    expect((await post("/customers", batch, {}, fx.tokens.revoked)).status).toBe(401);
    const forbidden = await post("/customers", batch, {}, fx.tokens.read);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toContain("ingest");
    expect((await post("/nudges/1/dismiss", {}, {}, fx.tokens.read)).status).toBe(403);
    expect(await countRows(fx.store, "customers")).toBe(0);
    expect((await call(fx.base, "GET", "/api/v1/nudges", { token: fx.tokens.revoked })).status).toBe(401);
  });

  it("a token revoked by another process is refused within TOKEN_RECHECK_MS; one revoked in this process at once", async () => {
    const other = await createApiToken(fx.store, "crm", ["read"]);
    const read = (token: string) => call(fx.base, "GET", "/api/v1/nudges", { token });
    expect((await read(fx.tokens.read)).status).toBe(200);
    expect((await read(other.secret)).status).toBe(200);
    // What `keepwarm tokens revoke` in another process does: the row only, no word to this server.
    const reader = await findApiTokenByName(fx.store.db, "reader");
    expect(await revokeApiToken(fx.store.db, reader?.id ?? -1, Date.now())).toBe(true);
    const revokedAt = performance.now();
    let status = 200;
    while (status === 200 && performance.now() - revokedAt < TOKEN_RECHECK_MS + 1_000) {
      status = (await read(fx.tokens.read)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(401);
    expect(performance.now() - revokedAt).toBeLessThan(TOKEN_RECHECK_MS + 500);
    // Revoked through this process (revokeToken): its cached verification goes at once.
    await revokeToken(fx.store, "crm");
    expect((await read(other.secret)).status).toBe(401);
  });

  it("over the token's rate the API answers 429 with Retry-After", async () => {
    const base = await fx.serve({ rateLimit: 2 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await call(base, "GET", "/api/v1/nudges", { token: fx.tokens.read }));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    expect(Number(replies[2]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("malformed JSON, a wrong content type, an oversized body and unknown fields are one-line 4xx answers, and the server keeps serving", async () => {
    const malformed = await post("/touches", '{"items": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^malformed JSON: [^\n]+$/);
    const text = await call(fx.base, "POST", "/api/v1/touches", { token: fx.tokens.all, body: "x", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    const huge = await post("/touches", { items: [{ customer_id: "C-1", occurred_at: isoDaysAgo(1), note: "x".repeat(3_000_000) }] });
    expect(huge.status).toBe(413);
    expect((await post("/touches", { items: [{}], extra: 1 })).body.error).toBe('body: unknown field "extra"');
    expect((await post("/touches", { items: [] })).body.error).toBe("body.items: is empty");
    expect((await post("/touches", { items: Array.from({ length: 1001 }, () => ({})) })).status).toBe(400);
    expect((await post("/touches", [1, 2])).status).toBe(400);
    expect((await call(fx.base, "GET", "/api/v1/nudges?status=lost", { token: fx.tokens.read })).status).toBe(400);
    expect((await call(fx.base, "DELETE", "/api/v1/nudges", { token: fx.tokens.read })).status).toBe(405);
    expect((await call(fx.base, "GET", "/api/v1/nope", { token: fx.tokens.read })).status).toBe(404);
    expect((await call(fx.base, "GET", "/api/v1/nudges", { token: fx.tokens.read })).status).toBe(200);
  });
});
