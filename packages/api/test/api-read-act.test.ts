import { readFileSync } from "node:fs";
import { computeStats, runSweep, stateLine } from "@keepwarm/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OPENAPI_PATH, openApiText } from "../src/index";
import { type ApiFixture, apiFixture, call, DAY_MS, isoDaysAgo, UTC } from "./api-fixture";

let fx: ApiFixture;
beforeEach(async () => {
  fx = await apiFixture();
  const owner = (i: number) => (i % 2 === 0 ? "U0OWNERA1" : "U0OWNERB1");
  const customers = Array.from({ length: 6 }, (_, i) => ({
    id: `C-${i}`,
    name: `Customer ${i}`,
    segment: "smb",
    owner_slack_id: owner(i),
    since: isoDaysAgo(400),
  }));
  expect((await post("/customers", { items: customers })).status).toBe(200);
  // C-0 was touched lately and answered 9, then 3: an NPS drop, no quiet nudge.
  expect((await post("/touches", { items: [{ customer_id: "C-0", occurred_at: isoDaysAgo(2), kind: "call" }] })).status).toBe(200);
  const nps = [
    { customer_id: "C-0", responded_at: isoDaysAgo(40), score: 9 },
    { customer_id: "C-0", responded_at: isoDaysAgo(1), score: 3 },
  ];
  expect((await post("/nps", { items: nps })).status).toBe(200);
  await runSweep(fx.store, { calendar: UTC });
});
afterEach(() => fx.close());

const post = (path: string, body: unknown, token = fx.tokens.all) => call(fx.base, "POST", `/api/v1${path}`, { token, body });
const get = (path: string, token = fx.tokens.read) => call(fx.base, "GET", `/api/v1${path}`, { token });

describe("reading customers and nudges", () => {
  it("a customer comes with its facts, its health score and its open nudges", async () => {
    const reply = await get("/customers/C-0");
    expect(reply.status).toBe(200);
    expect(reply.body.customer).toMatchObject({ id: "C-0", owner_slack_id: "U0OWNERA1", segment: "smb", loyalty_member: false });
    expect(reply.body.facts).toMatchObject({ npsLatest: 3, npsPrevious: 9, daysSinceLastTouch: 2 });
    expect(reply.body.health.summary[0]).toMatch(/^Health/);
    expect(reply.body.open_nudges.map((n: { rule_id: string }) => n.rule_id)).toEqual(["nps-drop"]);
    expect((await get("/customers/C-404")).status).toBe(404);
  });

  it("nudges are listed by status, owner and rule, a page at a time", async () => {
    const all = await get("/nudges?status=open");
    expect(all.status).toBe(200);
    // C-1…C-5 are quiet (no touch in 400 days): no-contact; C-0 has the NPS drop.
    expect(all.body.nudges).toHaveLength(6);
    const quietOfB = await get("/nudges?status=open&owner=U0OWNERB1&rule=no-contact");
    expect(quietOfB.body.nudges.map((n: { customer: { id: string } }) => n.customer.id).sort()).toEqual(["C-1", "C-3", "C-5"]);
    const page = await get("/nudges?limit=4");
    expect(page.body.nudges).toHaveLength(4);
    const rest = await get(`/nudges?limit=4&before=${page.body.next_before}`);
    expect(rest.body.nudges).toHaveLength(2);
    expect(rest.body.next_before).toBeNull();
    expect((await get("/nudges?status=resolved")).body.nudges).toEqual([]);
  });
});

describe("acting on nudges", () => {
  it("snooze, dismiss and resolve change a live nudge once; a closed one is 409, an unknown one 404", async () => {
    const open = (await get("/nudges?status=open&rule=no-contact")).body.nudges as Array<{ id: number }>;
    const [a, b, c] = open.map((n) => n.id);
    const snoozed = await post(`/nudges/${a}/snooze`, { days: 7 });
    expect(snoozed.status).toBe(200);
    expect(snoozed.body.nudge).toMatchObject({ id: a, status: "snoozed" });
    expect(Date.parse(snoozed.body.nudge.snoozed_until) - Date.now()).toBeGreaterThan(6 * DAY_MS);
    expect((await post(`/nudges/${a}/snooze`, { days: 5 })).status).toBe(400);

    const dismissed = await post(`/nudges/${b}/dismiss`, { reason: "customer on holiday" });
    expect(dismissed.body.nudge).toMatchObject({ status: "dismissed", close_note: "customer on holiday", closed_by: "api:all" });
    const again = await post(`/nudges/${b}/dismiss`, {});
    expect(again.status).toBe(409);

    const resolved = await post(`/nudges/${c}/resolve`, { note: "called from the CRM", by: "U0OWNERA1" });
    expect(resolved.body.nudge).toMatchObject({ status: "resolved", close_reason: "manual", closed_by: "U0OWNERA1" });
    // Its Slack message says who resolved it, not that a touch was logged.
    const line = stateLine(
      {
        status: "resolved",
        closeReason: "manual",
        closedBy: "U0OWNERA1",
        closeNote: "called from the CRM",
        snoozedUntil: null,
        snoozedBy: null,
        touchKind: null,
      },
      (u) => `<@${u}>`,
    );
    expect(line).toBe("✅ Resolved by <@U0OWNERA1>: called from the CRM");
    expect((await post("/nudges/999999/resolve", {})).status).toBe(404);
    expect((await post("/nudges/abc/resolve", {})).status).toBe(404);
    expect((await get("/nudges?status=snoozed")).body.nudges.map((n: { id: number }) => n.id)).toEqual([a]);
  });
});

describe("stats and the OpenAPI document", () => {
  it("stats are the object `keepwarm stats --json` prints for the same period", async () => {
    const since = isoDaysAgo(30).slice(0, 10);
    const until = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
    const reply = await get(`/stats?since=${since}&until=${until}&segment=smb`);
    expect(reply.status).toBe(200);
    const expected = await computeStats(fx.store, { since: Date.parse(since), until: Date.parse(until), calendar: UTC, segment: "smb" });
    expect(reply.body).toEqual(JSON.parse(JSON.stringify(expected)));
    expect((await get("/stats?segment=nope")).status).toBe(400);
    expect((await get("/stats?since=soon")).body.error).toBe('since: "soon" is not a date (YYYY-MM-DD)');
  });

  it("/api/v1/openapi.json is the checked-in docs/openapi.json, generated from the zod schemas", async () => {
    const served = await call(fx.base, "GET", "/api/v1/openapi.json");
    expect(served.status).toBe(200);
    expect(served.body.openapi).toBe("3.1.0");
    expect(`${JSON.stringify(served.body, null, 2)}\n`).toBe(openApiText());
    // If this fails, run `npx tsx scripts/openapi.ts` and commit docs/openapi.json.
    expect(readFileSync(OPENAPI_PATH, "utf8")).toBe(openApiText());
    expect(Object.keys(served.body.paths).sort()).toEqual([
      "/api/v1/customers",
      "/api/v1/customers/{id}",
      "/api/v1/nps",
      "/api/v1/nudges",
      "/api/v1/nudges/{id}/dismiss",
      "/api/v1/nudges/{id}/resolve",
      "/api/v1/nudges/{id}/snooze",
      "/api/v1/purchases",
      "/api/v1/stats",
      "/api/v1/touches",
    ]);
  });
});
