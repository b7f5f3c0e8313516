import { DAY_MS } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { applyRuleSet, deliverToConsole, EnvError, parseEnv, routeEscalation, runSweep, snoozeNudge } from "../src/index";
import { ago, customer, freshStatsStore, NOW, UTC } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const DAY0 = NOW - 3 * 3_600_000; // 09:00 UTC, the usual sweep time
const at = (day: number, extraMs = 0) => DAY0 + day * DAY_MS + extraMs;

async function setup(nudgeOptions: Record<string, unknown> = {}, customers = 1) {
  const fixture = await freshStatsStore();
  close = fixture.close;
  const { store } = fixture;
  for (let i = 0; i < customers; i++) customer(store, { id: `X-${i}`, since: ago(400), owner: "U0REPX" });
  await applyRuleSet(
    store,
    JSON.stringify({
      rules: [
        {
          id: "quiet",
          name: "Quiet for 30 days",
          conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
          nudge: { message: "{{customer.name}} is quiet", escalateAfterDays: 3, ...nudgeOptions },
        },
      ],
    }),
    { author: "test", source: "test" },
  );
  return store;
}

const escalations = (store: Awaited<ReturnType<typeof setup>>) =>
  store.sqlite.prepare("SELECT count(*) FROM outbox WHERE kind = 'escalate'").pluck().get() as number;

describe("escalation of ignored nudges", () => {
  it("fires once, on the sweep escalateAfterDays calendar days after delivery: day N−1 no, day N yes, day N+1 not again", async () => {
    const store = await setup();
    await runSweep(store, { calendar: UTC, now: at(0) });
    // Delivered a few seconds after the sweep: calendar days, not 72 hours, decide.
    await deliverToConsole(store, { write: () => {}, now: at(0, 5_000) });
    expect((await runSweep(store, { calendar: UTC, now: at(2) })).escalated).toBe(0);
    expect(escalations(store)).toBe(0);
    const day3 = await runSweep(store, { calendar: UTC, now: at(3) });
    expect(day3.escalated).toBe(1);
    expect(escalations(store)).toBe(1);
    expect(store.sqlite.prepare("SELECT escalated_at FROM nudges").pluck().get()).toBe(at(3));
    expect((await runSweep(store, { calendar: UTC, now: at(4) })).escalated).toBe(0);
    expect((await runSweep(store, { calendar: UTC, now: at(10) })).escalated).toBe(0);
    expect(escalations(store)).toBe(1);
  });

  it("does not escalate in a dry run, a snoozed nudge, an undelivered one, or a held-out one", async () => {
    const store = await setup({ holdoutPercent: 50 }, 40);
    await runSweep(store, { calendar: UTC, now: at(0) });
    const ids = store.sqlite.prepare("SELECT id FROM nudges WHERE held_out = 0 ORDER BY id").pluck().all() as number[];
    expect(ids.length).toBeGreaterThan(3);
    // The last nudged one never reaches its rep (its delivery failed).
    const undelivered = ids[ids.length - 1] as number;
    store.sqlite.prepare("UPDATE outbox SET status = 'failed' WHERE nudge_id = ?").run(undelivered);
    await deliverToConsole(store, { write: () => {}, now: at(0, 5_000) });
    const snoozed = ids[0] as number;
    expect((await snoozeNudge(store, snoozed, 7, "U0REPX", at(1))).ok).toBe(true);
    expect((await runSweep(store, { calendar: UTC, now: at(3), dryRun: true })).escalated).toBe(0);
    expect(escalations(store)).toBe(0);
    const report = await runSweep(store, { calendar: UTC, now: at(3) });
    const escalated = store.sqlite.prepare("SELECT id FROM nudges WHERE escalated_at IS NOT NULL ORDER BY id").pluck().all() as number[];
    expect(report.escalated).toBe(ids.length - 2);
    expect(escalated).toEqual(ids.slice(1, -1));
    expect(store.sqlite.prepare("SELECT count(*) FROM nudges WHERE held_out = 1 AND escalated_at IS NOT NULL").pluck().get()).toBe(0);
    // Once the snooze ends and the sweep reopens it, the long-ignored nudge escalates.
    await runSweep(store, { calendar: UTC, now: at(8) });
    expect(store.sqlite.prepare("SELECT escalated_at FROM nudges WHERE id = ?").pluck().get(snoozed)).toBe(at(8));
  });

  it("goes to the rule's escalateTo, with the nudge's history, and console delivery prints it once", async () => {
    const store = await setup({ escalateTo: "#cs-leads" });
    await runSweep(store, { calendar: UTC, now: at(0) });
    await deliverToConsole(store, { write: () => {}, now: at(0, 5_000) });
    await snoozeNudge(store, 1, 3, "U0REPX", at(0, 60_000));
    // Snoozed until day 3 + 1 minute: day 3's sweep leaves it alone, day 4's reopens and escalates it.
    expect((await runSweep(store, { calendar: UTC, now: at(3) })).escalated).toBe(0);
    expect((await runSweep(store, { calendar: UTC, now: at(4) })).escalated).toBe(1);
    const lines: string[] = [];
    const result = await deliverToConsole(store, { write: (l) => lines.push(l), now: at(4, 5_000), escalation: { managers: { U0REPX: "U0BOSS" } } });
    expect(result.escalated).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain("Escalation to #cs-leads (the rule's escalateTo)");
    expect(text).toContain('created 2026-06-30 09:00 UTC by rule "Quiet for 30 days" (quiet, rules v1)');
    expect(text).toContain("delivered to <@U0REPX> 2026-06-30 09:00 UTC");
    expect(text).toContain("snoozed by U0REPX");
    expect(text).toContain("still open when escalated 2026-07-04 09:00 UTC");
    const again: string[] = [];
    expect((await deliverToConsole(store, { write: (l) => again.push(l), now: at(5) })).escalated).toBe(0);
    expect(again.join("\n")).not.toContain("Escalation");
  });

  it("routes to the owner's manager, else the escalation channel, else nowhere (skipped, with the reason)", () => {
    const managers = { U0REPX: "U0BOSS" };
    expect(routeEscalation(undefined, "U0REPX", { managers })).toMatchObject({ kind: "dm", user: "U0BOSS" });
    expect(routeEscalation(undefined, "U0OTHER", { managers, escalationChannel: "#cs-leads" })).toMatchObject({ kind: "channel", channel: "cs-leads" });
    expect(routeEscalation("U0LEAD01", "U0REPX", { managers })).toMatchObject({ kind: "dm", user: "U0LEAD01" });
    expect(routeEscalation(undefined, null, { managers: {} })).toMatchObject({ kind: "unrouted" });
  });

  it("an escalation with nowhere to go is marked skipped, not lost silently", async () => {
    const store = await setup();
    await runSweep(store, { calendar: UTC, now: at(0) });
    await deliverToConsole(store, { write: () => {}, now: at(0, 5_000) });
    await runSweep(store, { calendar: UTC, now: at(3) });
    const lines: string[] = [];
    expect((await deliverToConsole(store, { write: (l) => lines.push(l), now: at(3, 5_000) })).escalated).toBe(0);
    expect(lines.join("\n")).toContain("Escalation to nobody (no rule escalateTo, no manager in KEEPWARM_MANAGERS");
    expect(store.sqlite.prepare("SELECT status, last_error FROM outbox WHERE kind = 'escalate'").get()).toEqual({
      status: "skipped",
      last_error: "no escalation target",
    });
  });

  it("reads KEEPWARM_MANAGERS and KEEPWARM_ESCALATION_CHANNEL, and rejects a malformed pair naming the variable", () => {
    const env = parseEnv({ KEEPWARM_MANAGERS: "U0REPA:U0BOSS, U0REPB:U0BOSS", KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" });
    expect(env.KEEPWARM_MANAGERS).toEqual({ U0REPA: "U0BOSS", U0REPB: "U0BOSS" });
    expect(env.KEEPWARM_ESCALATION_CHANNEL).toBe("#cs-leads");
    expect(parseEnv({}).KEEPWARM_MANAGERS).toEqual({});
    expect(() => parseEnv({ KEEPWARM_MANAGERS: "U0REPA-U0BOSS" })).toThrow(EnvError);
    expect(() => parseEnv({ KEEPWARM_MANAGERS: "U0REPA-U0BOSS" })).toThrow(
      /^KEEPWARM_MANAGERS="U0REPA-U0BOSS": "U0REPA-U0BOSS" is not REP_USER_ID:MANAGER_USER_ID/,
    );
    expect(() => parseEnv({ KEEPWARM_ESCALATION_CHANNEL: "cs leads" })).toThrow(/^KEEPWARM_ESCALATION_CHANNEL/);
  });
});
