import { afterEach, describe, expect, it } from "vitest";
import { type Harness, NOW, startHarness, sweep } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const enqueueEscalation = (h: Harness) =>
  h.store.sqlite
    .prepare("INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES ('escalate', 1, 'pending', 0, ?, ?)")
    .run(NOW, NOW);

describe("escalate items", () => {
  it("are posted to KEEPWARM_ESCALATION_CHANNEL with the nudge's history", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }], env: { KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    enqueueEscalation(h);
    const pass = await h.bot.delivery.runOnce();
    expect(pass.escalated).toBe(1);
    const posted = h.fake.messages.get("cs-leads")?.[0];
    expect(posted?.text).toContain("*Acme Corp* (C-1): nudge #1 is still open");
    expect(posted?.text).toContain("delivered to <@U0REP>");
  });

  it("are skipped with the reason when there is no escalation target", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    enqueueEscalation(h);
    const pass = await h.bot.delivery.runOnce();
    expect(pass.skipped).toBe(1);
    const row = h.store.sqlite.prepare("SELECT status, last_error AS lastError FROM outbox WHERE kind = 'escalate'").get() as {
      status: string;
      lastError: string;
    };
    expect(row.status).toBe("skipped");
    expect(row.lastError).toMatch(/no rule escalateTo/);
  });
});
