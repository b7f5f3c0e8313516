import { applyRuleSet, logTouch } from "@keepwarm/core";
import { defaultRulesText } from "@keepwarm/rules";
import { DAY_MS } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryClient, SlackDelivery } from "../src/index";
import { type Harness, NOW, outboxRows, startHarness, sweep } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

// The default rule "no-contact-enterprise" escalates after 5 days.
const ESCALATE_AFTER = 5 * DAY_MS;
const ACME = { id: "C-1", name: "Acme Corp", segment: "enterprise" };

/** Sweep and deliver the nudge now, then sweep again `days` later: the sweep queues the escalation. */
async function deliverThenWait(h: Harness, waitMs = ESCALATE_AFTER): Promise<void> {
  await sweep(h.store);
  expect((await h.bot.delivery.runOnce()).delivered).toBe(1);
  h.clock.advance(waitMs);
  await sweep(h.store, NOW + waitMs);
}

const escalationPosts = (h: Harness) =>
  h.fake.callsOf("chat.postMessage").filter((c) => (c.args.metadata as { event_type: string }).event_type === "keepwarm_escalation");

const escalateRow = async (h: Harness) =>
  (await outboxRows(h.store)).filter((o) => o.kind === "escalate").map(({ status, attempts, lastError }) => ({ status, attempts, lastError }));

describe("escalations in Slack", () => {
  it("go to the owner's manager by DM (KEEPWARM_MANAGERS before the channel), with the history, exactly once", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_MANAGERS: "U0REP:U0BOSS", KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    await deliverThenWait(h, ESCALATE_AFTER - DAY_MS);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(0); // 4 days: not yet
    h.clock.advance(DAY_MS);
    await sweep(h.store, NOW + ESCALATE_AFTER);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(1);

    const posted = h.fake.messages.get("D0BOSS") ?? [];
    expect(posted).toHaveLength(1);
    expect(h.fake.messagesIn("cs-leads")).toBeUndefined();
    const text = posted[0]?.text ?? "";
    expect(text).toContain("*Acme Corp* (C-1): nudge #1 is still open");
    expect(text).toContain('by rule "Enterprise customer quiet for 14+ days" (no-contact-enterprise, rules v1)');
    expect(text).toContain("delivered to <@U0REP> 2026-11-23 10:00 UTC");
    expect(text).toContain("still open when escalated 2026-11-28");
    expect(JSON.stringify(posted[0]?.blocks)).toContain("Escalated to you as: manager of <@U0REP> (KEEPWARM_MANAGERS)");
    const escalation = await h.store.db.selectFrom("outbox").select("id").where("kind", "=", "escalate").executeTakeFirstOrThrow();
    expect(posted[0]?.metadata).toEqual({ event_type: "keepwarm_escalation", event_payload: { nudge_id: 1, outbox_id: escalation.id } });

    // Later sweeps and passes never escalate it again.
    h.clock.advance(DAY_MS);
    await sweep(h.store, NOW + ESCALATE_AFTER + DAY_MS);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(0);
    expect(escalationPosts(h)).toHaveLength(1);
    expect(await escalateRow(h)).toEqual([{ status: "done", attempts: 1, lastError: null }]);
  });

  it("go to KEEPWARM_ESCALATION_CHANNEL when the owner has no manager", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_MANAGERS: "U0SOMEONE:U0BOSS", KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    await deliverThenWait(h);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(1);
    const posted = h.fake.messagesIn("cs-leads") ?? [];
    expect(posted).toHaveLength(1);
    expect(posted[0]?.text).toContain("*Acme Corp* (C-1): nudge #1 is still open");
    expect(JSON.stringify(posted[0]?.blocks)).toContain("Escalated to you as: KEEPWARM_ESCALATION_CHANNEL");
    expect(h.fake.messages.get("D0BOSS")).toBeUndefined();
  });

  it("go to the rule's escalateTo before the manager and the channel", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_MANAGERS: "U0REP:U0BOSS", KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    const rules = JSON.parse(defaultRulesText()) as { rules: Array<{ id: string; nudge: Record<string, unknown> }> };
    for (const rule of rules.rules) if (rule.id === "no-contact-enterprise") rule.nudge.escalateTo = "#vip-desk";
    await applyRuleSet(h.store, JSON.stringify(rules), { author: "U0ADMIN", source: "test" });
    await deliverThenWait(h);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(1);
    expect(h.fake.messagesIn("vip-desk")).toHaveLength(1);
    expect(escalationPosts(h)).toHaveLength(1);
  });

  it("are skipped with the reason when there is no escalation target", async () => {
    h = await startHarness({ customers: [ACME] });
    await deliverThenWait(h);
    const pass = await h.bot.delivery.runOnce();
    expect(pass).toMatchObject({ escalated: 0, skipped: 1 });
    expect(escalationPosts(h)).toHaveLength(0);
    const [row] = await escalateRow(h);
    expect(row?.status).toBe("skipped");
    expect(row?.lastError).toMatch(/^no escalation target: no rule escalateTo, no manager in KEEPWARM_MANAGERS/);
  });

  it("are skipped when the nudge was resolved before the escalation went out", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    await deliverThenWait(h);
    await logTouch(h.store, { customerId: 1, kind: "call", occurredAt: NOW + ESCALATE_AFTER, now: NOW + ESCALATE_AFTER, loggedBy: "U0REP", source: "cli" });
    await h.bot.delivery.runOnce();
    expect(escalationPosts(h)).toHaveLength(0);
    expect((await escalateRow(h))[0]).toMatchObject({ status: "skipped", lastError: "nudge is resolved" });
  });

  it("are posted once across a crash between Slack's answer and the database commit", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" } });
    await deliverThenWait(h);
    const crashing = new SlackDelivery({
      store: h.store,
      client: deliveryClient("xoxb-test", h.fake.apiUrl),
      digestThreshold: 3,
      escalation: { managers: {}, escalationChannel: "#cs-leads" },
      clock: h.clock,
      afterPost: () => {
        throw new Error("simulated crash");
      },
    });
    await expect(crashing.runOnce()).rejects.toThrow("simulated crash");
    expect(escalationPosts(h)).toHaveLength(1);
    expect((await escalateRow(h))[0]).toMatchObject({ status: "pending", attempts: 1 });
    // "Restart": the message is found in the channel and recorded, not posted again.
    expect((await h.bot.delivery.runOnce()).escalated).toBe(1);
    expect(escalationPosts(h)).toHaveLength(1);
    expect((await escalateRow(h))[0]).toMatchObject({ status: "done", attempts: 1 });
  });

  it("wait out a Slack outage and are then posted once", async () => {
    h = await startHarness({ customers: [ACME], env: { KEEPWARM_MANAGERS: "U0REP:U0BOSS" } });
    await deliverThenWait(h);
    h.fake.failNext("chat.postMessage", 2, { status: 503 });
    for (let i = 0; i < 5 && (await escalateRow(h))[0]?.status === "pending"; i++) {
      await h.bot.delivery.runOnce();
      h.clock.advance(60_000);
    }
    expect((await escalateRow(h))[0]?.status).toBe("done");
    expect(h.fake.messages.get("D0BOSS")).toHaveLength(1);
  });
});
