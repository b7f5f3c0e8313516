import { createApiToken } from "@keepwarm/api";
import { applyRuleSet } from "@keepwarm/core";
import { DAY_MS, evaluationQueueDepth } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitUntil } from "./harness";

/** "nps-drop": the latest NPS ≤ 6 after one ≥ 9. */
const RULES = JSON.stringify({
  rules: [
    {
      id: "nps-drop",
      name: "NPS dropped",
      conditions: {
        all: [
          { fact: "npsPrevious", operator: "greaterThanInclusive", value: 9 },
          { fact: "npsLatest", operator: "lessThanInclusive", value: 6 },
        ],
      },
      nudge: { message: "{{customer.name}}: NPS fell to {{npsLatest}}", resolveOnTouch: false },
    },
  ],
});

let h: Harness;
let token: string;
beforeEach(async () => {
  h = await startHarness({ loops: true, customers: [{ id: "acme", name: "Acme Rockets", quietDays: 3 }] });
  await applyRuleSet(h.store, RULES, { author: "test", source: "test" });
  token = (await createApiToken(h.store, "survey", ["ingest"])).secret;
});
afterEach(() => h.close());

const postNps = (items: unknown[]) =>
  fetch(`${h.url}/api/v1/nps`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ items }),
  });
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const acmeMessages = () => h.fake.allMessages().filter((m) => m.text.includes("Acme Rockets"));

describe("an NPS drop posted to the API reaches Slack within seconds", () => {
  it("previous 9, now 2: the owner gets the nudge without a sweep, and a better score then updates it as cleared", async () => {
    const first = await postNps([
      { customer_id: "acme", score: 9, responded_at: iso(20 * DAY_MS) },
      { customer_id: "acme", score: 2, responded_at: iso(60_000) },
    ]);
    expect(first.status).toBe(200);
    const posted = await h.fake.waitFor(() => acmeMessages()[0], 5000);
    expect(posted.text).toContain("NPS 9 → 2");
    expect(await h.store.db.selectFrom("sweep_runs").select("id").execute()).toEqual([]);

    const better = await postNps([{ customer_id: "acme", score: 10, responded_at: iso(1000) }]);
    expect(better.status).toBe(200);
    await waitUntil(async () => h.fake.callsOf("chat.update").length > 0, 5000);
    const nudge = await h.store.db.selectFrom("nudges").select(["status", "close_reason"]).executeTakeFirstOrThrow();
    expect(nudge).toEqual({ status: "expired", close_reason: "conditions-cleared" });
    expect(acmeMessages()).toHaveLength(1);
  });

  it("a refused batch (a score of 11) queues nothing and posts nothing", async () => {
    const refused = await postNps([
      { customer_id: "acme", score: 9, responded_at: iso(20 * DAY_MS) },
      { customer_id: "acme", score: 11, responded_at: iso(60_000) },
    ]);
    expect(refused.status).toBe(422);
    expect((await evaluationQueueDepth(h.store.db)).queued).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(acmeMessages()).toEqual([]);
    expect(await h.store.db.selectFrom("nudges").select("id").execute()).toEqual([]);
  });
});
