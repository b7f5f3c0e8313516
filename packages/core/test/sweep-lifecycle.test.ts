import { DAY_MS } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dismissNudge, ensureActiveRuleSet, logTouch, runSweep, snoozeNudge } from "../src/index";
import { addCustomer, addNps, addTouch, daysAfter, daysBefore, type Fixture, freshStore, liveKeys, NOW, nudges, sweepAt, UTC } from "./sweep-fixtures";

let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
});
afterEach(() => fx.close());

const only = <T>(rows: T[]): T => {
  expect(rows).toHaveLength(1);
  return rows[0] as T;
};
const outboxFor = (nudgeId: number) =>
  fx.store.sqlite.prepare("SELECT kind, status FROM outbox WHERE nudge_id = ? ORDER BY id").all(nudgeId) as Array<{ kind: string; status: string }>;

/** An smb customer last touched 40 days before NOW: the "no-contact" rule holds. */
const quietCustomer = (id = "quiet") => {
  const customer = addCustomer(fx.store, { id, segment: "smb" });
  addTouch(fx.store, customer, daysBefore(40));
  return customer;
};
/** A customer touched yesterday whose NPS fell 9 → 4 two days before NOW: only "nps-drop" holds. */
const droppedNps = (id = "unhappy") => {
  const customer = addCustomer(fx.store, { id, segment: "smb" });
  addTouch(fx.store, customer, daysBefore(1));
  addNps(fx.store, customer, 9, daysBefore(20));
  addNps(fx.store, customer, 4, daysBefore(2));
  return customer;
};

describe("dedupe", () => {
  it("a second sweep creates nothing new", async () => {
    quietCustomer("a");
    quietCustomer("b");
    const first = await sweepAt(fx.store, NOW);
    expect(first.created).toBe(2);
    const second = await sweepAt(fx.store, daysAfter(1));
    expect(second.created).toBe(0);
    expect(second.nudges).toEqual([]);
    expect(nudges(fx.store)).toHaveLength(2);
  });

  it("the database itself refuses a second live nudge for the same rule and customer", async () => {
    quietCustomer();
    await sweepAt(fx.store, NOW);
    const copy = () =>
      fx.store.sqlite
        .prepare(
          `INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, facts, cooldown_days, destination, created_at, updated_at)
           SELECT rule_id, rule_set_version, customer_id, 'open', priority, explanation, message, facts, cooldown_days, destination, created_at, updated_at FROM nudges`,
        )
        .run();
    expect(copy).toThrow(/UNIQUE constraint failed/);
  });
});

describe("sweep_runs", () => {
  it("records every sweep with its instants and counts", async () => {
    quietCustomer();
    droppedNps();
    const report = await sweepAt(fx.store, NOW);
    const run = fx.store.sqlite.prepare("SELECT * FROM sweep_runs WHERE id = ?").get(report.runId) as Record<string, unknown>;
    expect(run).toMatchObject({ status: "ok", dry_run: 0, as_of: NOW, evaluated: 2, matched: 2, created: 2, expired: 0, error: null, pid: process.pid });
    expect(run.finished_at as number).toBeGreaterThanOrEqual(run.started_at as number);
  });

  it("records a failed sweep with its error and leaves no half-made nudges", async () => {
    quietCustomer();
    fx.store.sqlite.exec("CREATE TRIGGER fail_nudges BEFORE INSERT ON nudges BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    await expect(sweepAt(fx.store, NOW)).rejects.toThrow("disk on fire");
    const run = fx.store.sqlite.prepare("SELECT status, error, finished_at FROM sweep_runs").get() as {
      status: string;
      error: string;
      finished_at: number | null;
    };
    expect(run.status).toBe("error");
    expect(run.error).toContain("disk on fire");
    expect(run.finished_at).not.toBeNull();
    expect(nudges(fx.store)).toEqual([]);
    // The lease was released: the next sweep runs.
    fx.store.sqlite.exec("DROP TRIGGER fail_nudges");
    expect((await sweepAt(fx.store, NOW)).created).toBe(1);
  });

  it("marks a run left 'running' by a dead process as abandoned on the next sweep", async () => {
    quietCustomer();
    fx.store.sqlite
      .prepare("INSERT INTO sweep_runs (started_at, status, as_of, host, pid) VALUES (?, 'running', ?, 'elsewhere', 999999)")
      .run(daysBefore(1), daysBefore(1));
    await sweepAt(fx.store, NOW);
    const statuses = fx.store.sqlite.prepare("SELECT status FROM sweep_runs ORDER BY id").pluck().all();
    expect(statuses).toEqual(["abandoned", "ok"]);
  });
});

describe("--dry-run", () => {
  it("reports what it would create and writes no nudge and no outbox row", async () => {
    quietCustomer();
    const report = await sweepAt(fx.store, NOW, { dryRun: true });
    expect(report.nudges.map((n) => `${n.ruleId} ${n.customerId}`)).toEqual(["no-contact quiet"]);
    expect(nudges(fx.store)).toEqual([]);
    expect(fx.store.sqlite.prepare("SELECT count(*) FROM outbox").pluck().get()).toBe(0);
    expect(fx.store.sqlite.prepare("SELECT dry_run FROM sweep_runs").pluck().get()).toBe(1);
  });
});

describe("cooldown", () => {
  it("after a dismiss, the rule stays quiet for that customer until cooldown_until passes", async () => {
    quietCustomer();
    await sweepAt(fx.store, NOW);
    const nudge = only(nudges(fx.store));
    expect((await dismissNudge(fx.store, nudge.id, "U0REP", "on holiday", NOW)).ok).toBe(true);
    const cooldownUntil = only(nudges(fx.store)).cooldownUntil;
    expect(cooldownUntil).toBe(NOW + 14 * DAY_MS);
    expect((await sweepAt(fx.store, daysAfter(1))).created).toBe(0);
    expect((await sweepAt(fx.store, NOW + 14 * DAY_MS - 1)).created).toBe(0);
    const after = await sweepAt(fx.store, NOW + 14 * DAY_MS);
    expect(after.nudges.map((n) => n.ruleId)).toEqual(["no-contact"]);
    expect(nudges(fx.store).map((n) => n.status)).toEqual(["dismissed", "open"]);
  });

  it("after a resolve by touch, a rule that still holds stays quiet until cooldown_until passes", async () => {
    const customer = droppedNps();
    await sweepAt(fx.store, NOW);
    const resolved = await logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: NOW + 1000, source: "cli", now: NOW + 1000 });
    expect(resolved.resolved.map((r) => r.ruleId)).toEqual(["nps-drop"]);
    const cooldownUntil = only(nudges(fx.store)).cooldownUntil as number;
    expect(cooldownUntil).toBe(NOW + 1000 + 30 * DAY_MS);
    // The NPS drop still holds (latest response 2 days before NOW, within 30 days).
    const npsDrops = async (now: number) => (await sweepAt(fx.store, now)).nudges.filter((n) => n.ruleId === "nps-drop");
    expect(await npsDrops(daysAfter(10))).toEqual([]);
    // Keep the drop recent (the rule reads responses of the last 30 days) right up to the end of the cooldown.
    addNps(fx.store, customer, 9, cooldownUntil - 5 * DAY_MS);
    addNps(fx.store, customer, 5, cooldownUntil - DAY_MS);
    expect(await npsDrops(cooldownUntil - 1)).toEqual([]);
    expect((await npsDrops(cooldownUntil)).map((n) => n.customerId)).toEqual(["unhappy"]);
  });
});

describe("snooze", () => {
  it("a snoozed nudge is not re-created while snoozed, then re-opened and re-queued by the first sweep after", async () => {
    quietCustomer();
    await sweepAt(fx.store, NOW);
    const nudge = only(nudges(fx.store));
    expect((await snoozeNudge(fx.store, nudge.id, 3, "U0REP", NOW)).ok).toBe(true);
    const during = await sweepAt(fx.store, daysAfter(2));
    expect(during).toMatchObject({ created: 0, reopened: 0 });
    expect(only(nudges(fx.store))).toMatchObject({ status: "snoozed", snoozedUntil: daysAfter(3) });
    const deliveriesBefore = outboxFor(nudge.id).filter((o) => o.kind === "deliver").length;
    const after = await sweepAt(fx.store, daysAfter(3));
    expect(after).toMatchObject({ created: 0, reopened: 1 });
    expect(only(nudges(fx.store))).toMatchObject({ id: nudge.id, status: "open", snoozedUntil: null });
    const deliveries = outboxFor(nudge.id).filter((o) => o.kind === "deliver");
    expect(deliveries).toHaveLength(deliveriesBefore + 1);
    expect(deliveries.at(-1)?.status).toBe("pending");
  });

  it("a snoozed nudge whose conditions stopped holding expires instead of re-opening", async () => {
    const customer = quietCustomer();
    await sweepAt(fx.store, NOW);
    await snoozeNudge(fx.store, only(nudges(fx.store)).id, 7, "U0REP", NOW);
    addTouch(fx.store, customer, daysAfter(1));
    const after = await sweepAt(fx.store, daysAfter(8));
    expect(after).toMatchObject({ reopened: 0, expired: 1 });
    expect(only(nudges(fx.store))).toMatchObject({ status: "expired", closeReason: "conditions-cleared" });
  });
});

describe("expiry", () => {
  it("an NPS-drop nudge expires by itself once the NPS recovers", async () => {
    const customer = droppedNps();
    await sweepAt(fx.store, NOW);
    addNps(fx.store, customer, 9, daysAfter(1));
    const report = await sweepAt(fx.store, daysAfter(2));
    expect(report.expired).toBe(1);
    expect(only(nudges(fx.store))).toMatchObject({ ruleId: "nps-drop", status: "expired", closeReason: "conditions-cleared" });
  });

  it("a no-contact nudge expires when a touch arrives by a path that does not resolve it", async () => {
    const customer = quietCustomer();
    await sweepAt(fx.store, NOW);
    addTouch(fx.store, customer, daysAfter(1));
    expect((await sweepAt(fx.store, daysAfter(2))).expired).toBe(1);
    expect(liveKeys(fx.store)).toEqual([]);
  });

  it("a nudge whose rule was removed from the active rules expires with that reason", async () => {
    quietCustomer();
    const active = await sweepAt(fx.store, NOW);
    expect(active.created).toBe(1);
    const ruleSet = await ensureActiveRuleSet(fx.store);
    const withoutNoContact = { ...ruleSet, ruleFile: { ...ruleSet.ruleFile, rules: ruleSet.ruleFile.rules.filter((r) => r.id !== "no-contact") } };
    await runSweep(fx.store, { calendar: UTC, now: daysAfter(1), ruleSet: withoutNoContact });
    expect(only(nudges(fx.store))).toMatchObject({ status: "expired", closeReason: "rule-removed" });
  });
});

describe("resolution by a logged touch", () => {
  it("logTouch resolves the customer's open contact nudges, records who and when, and starts the cooldown", async () => {
    const customer = quietCustomer();
    quietCustomer("other");
    await sweepAt(fx.store, NOW);
    const result = await logTouch(fx.store, { customerId: customer, kind: "email", occurredAt: NOW, loggedBy: "U0REP", source: "cli", now: NOW + 60_000 });
    expect(result.resolved.map((r) => r.ruleId)).toEqual(["no-contact"]);
    const rows = nudges(fx.store);
    expect(rows.find((n) => n.customer === "quiet")).toMatchObject({ status: "resolved", closeReason: "touch", cooldownUntil: NOW + 60_000 + 14 * DAY_MS });
    expect(rows.find((n) => n.customer === "other")?.status).toBe("open");
    const closedBy = fx.store.sqlite.prepare("SELECT closed_by FROM nudges WHERE status = 'resolved'").pluck().get();
    expect(closedBy).toBe("U0REP");
  });

  it("a touch older than the customer's last touch when the nudge was planned does not resolve it", async () => {
    const customer = quietCustomer();
    await sweepAt(fx.store, NOW);
    const late = await logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: daysBefore(50), source: "cli", now: NOW });
    expect(late.resolved).toEqual([]);
    expect(only(nudges(fx.store)).status).toBe("open");
  });

  it("rejects a touch dated in the future and records nothing", async () => {
    const customer = quietCustomer();
    await expect(logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: daysAfter(1), source: "cli", now: NOW })).rejects.toThrow(/future/);
    expect(fx.store.sqlite.prepare("SELECT count(*) FROM touchpoints").pluck().get()).toBe(1);
  });
});
