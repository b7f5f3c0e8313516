import { postSigned, slackSignature, slashCommandBody } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, type Harness, SECRET, startHarness, sweep } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
});
afterAll(async () => h.close());

const body = () => slashCommandBody({ command: "/keepwarm", text: "help", response_url: h.fake.responseUrl("sig") });
const nowSec = () => Math.floor(Date.now() / 1000);

describe("request verification on POST /slack/events", () => {
  it("accepts a correctly signed, current request", async () => {
    const res = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET });
    expect(res.status).toBe(200);
  });

  it("rejects a forged signature with 401", async () => {
    const res = await postSigned(`${h.url}/slack/events`, body(), { secret: "not-the-secret" });
    expect(res.status).toBe(401);
    const tampered = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET, signature: slackSignature(SECRET, nowSec(), "other body") });
    expect(tampered.status).toBe(401);
    const missing = await fetch(`${h.url}/slack/events`, { method: "POST", body: body(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(missing.status).toBe(401);
  });

  it("rejects a stale timestamp (over 5 minutes old) with 401 even when correctly signed", async () => {
    const res = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET, timestamp: nowSec() - 6 * 60 });
    expect(res.status).toBe(401);
  });

  it("rejects a timestamp over 5 minutes in the future with 401 even when correctly signed", async () => {
    const res = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET, timestamp: nowSec() + 6 * 60 });
    expect(res.status).toBe(401);
    const hourAhead = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET, timestamp: nowSec() + 3600 });
    expect(hourAhead.status).toBe(401);
  });

  it("accepts small clock skew in either direction", async () => {
    for (const skew of [-120, 120]) {
      const res = await postSigned(`${h.url}/slack/events`, body(), { secret: SECRET, timestamp: nowSec() + skew });
      expect(res.status).toBe(200);
    }
  });

  it("ignores a validly signed request from another workspace", async () => {
    const res = await h.command("/touch", "Acme Corp call", "U0STRANGER", { team_id: "T0OTHER" });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toContain("not installed in this workspace");
    expect(await countRows(h.store, "touchpoints")).toBe(0);
  });

  it("answers /healthz with DB state, last sweep and outbox backlog", async () => {
    await sweep(h.store);
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as {
      ok: boolean;
      db: { ok: boolean };
      storage: { ok: boolean; readOnly: string | null; diskFull: boolean; freeBytes: number | null };
      lastSweep: { status: string };
      outbox: { pending: number };
    };
    expect(json.ok).toBe(true);
    expect(json.db.ok).toBe(true);
    expect(json.storage).toMatchObject({ ok: true, readOnly: null, diskFull: false });
    if (h.store.engine === "sqlite") expect(json.storage.freeBytes).toBeGreaterThan(0);
    expect(json.lastSweep.status).toBe("ok");
    expect(json.outbox.pending).toBe(1);
  });
});
