import { DAY_MS } from "@keepwarm/store";
import { failInserts } from "@keepwarm/store/testing/faults";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dismissNudge, ensureActiveRuleSet, logTouch, runSweep, snoozeNudge } from "../src/index";
import {
  addCustomer,
  addNps,
  addTouch,
  countRows,
  daysAfter,
  daysBefore,
  type Fixture,
  freshStore,
  liveKeys,
  NOW,
  nudges,
  sweepAt,
  UTC,
} from "./sweep-fixtures";

let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
});
afterEach(() => fx.close());

const only = <T>(rows: T[]): T => {
  expect(rows).toHaveLength(1);
  return rows[0] as T;
};
const outboxFor = (nudgeId: number) => fx.store.db.selectFrom("outbox").select(["kind", "status"]).where("nudge_id", "=", nudgeId).orderBy("id").execute();

/** An smb customer last touched 40 days before NOW: the "no-contact" rule holds. */
const quietCustomer = async (id = "quiet") => {
  const customer = await addCustomer(fx.store, { id, segment: "smb" });
  await addTouch(fx.store, customer, daysBefore(40));
  return customer;
};
/** A customer touched yesterday whose NPS fell 9 → 4 two days before NOW: only "nps-drop" holds. */
const droppedNps = async (id = "unhappy") => {
  const customer = await addCustomer(fx.store, { id, segment: "smb" });
  await addTouch(fx.store, customer, daysBefore(1));
  await addNps(fx.store, customer, 9, daysBefore(20));
  await addNps(fx.store, customer, 4, daysBefore(2));
  return customer;
};

describe("dedupe", () => {
  it("a second sweep creates nothing new", async () => {
    await quietCustomer("a");
    await quietCustomer("b");
    const first = await sweepAt(fx.store, NOW);
    expect(first.created).toBe(2);
    const second = await sweepAt(fx.store, daysAfter(1));
    expect(second.created).toBe(0);
    expect(second.nudges).toEqual([]);
    expect(await nudges(fx.store)).toHaveLength(2);
  });

  it("the database itself refuses a second live nudge for the same rule and customer", async () => {
    await quietCustomer();
    await sweepAt(fx.store, NOW);
    const { id: _, ...live } = await fx.store.db.selectFrom("nudges").selectAll().executeTakeFirstOrThrow();
    const copy = fx.store.db
      .insertInto("nudges")
      .values({ ...live, status: "open" })
      .execute();
    await expect(copy).rejects.toThrow(/UNIQUE constraint failed|duplicate key value violates unique constraint "nudges_one_live"/);
  });
});

describe("sweep_runs", () => {
  it("records every sweep with its instants and counts", async () => {
    await quietCustomer();
    await droppedNps();
    const report = await sweepAt(fx.store, NOW);
    const run = await fx.store.db.selectFrom("sweep_runs").selectAll().where("id", "=", report.runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: "ok", dry_run: 0, as_of: NOW, evaluated: 2, matched: 2, created: 2, expired: 0, error: null, pid: process.pid });
    expect(run.finished_at as number).toBeGreaterThanOrEqual(run.started_at);
  });

  it("records a failed sweep with its error and leaves no half-made nudges", async () => {
    await quietCustomer();
    const repair = await failInserts(fx.store.db, "nudges", "disk on fire");
    await expect(sweepAt(fx.store, NOW)).rejects.toThrow("disk on fire");
    const run = await fx.store.db.selectFrom("sweep_runs").select(["status", "error", "finished_at"]).executeTakeFirstOrThrow();
    expect(run.status).toBe("error");
    expect(run.error).toContain("disk on fire");
    expect(run.finished_at).not.toBeNull();
    expect(await nudges(fx.store)).toEqual([]);
    // The lease was released: the next sweep runs.
    await repair();
    expect((await sweepAt(fx.store, NOW)).created).toBe(1);
  });

  it("marks a run left 'running' by a dead process as abandoned on the next sweep", async () => {
    await quietCustomer();
    await fx.store.db
      .insertInto("sweep_runs")
      .values({
        started_at: daysBefore(1),
        status: "running",
        dry_run: 0,
        as_of: daysBefore(1),
        evaluated: 0,
        matched: 0,
        created: 0,
        reopened: 0,
        expired: 0,
        held_out: 0,
        host: "elsewhere",
        pid: 999999,
      })
      .execute();
    await sweepAt(fx.store, NOW);
    const statuses = await fx.store.db.selectFrom("sweep_runs").select("status").orderBy("id").execute();
    expect(statuses.map((r) => r.status)).toEqual(["abandoned", "ok"]);
  });
});

describe("--dry-run", () => {
  it("reports what it would create and writes no nudge and no outbox row", async () => {
    await quietCustomer();
    const report = await sweepAt(fx.store, NOW, { dryRun: true });
    expect(report.nudges.map((n) => `${n.ruleId} ${n.customerId}`)).toEqual(["no-contact quiet"]);
    expect(await nudges(fx.store)).toEqual([]);
    expect(await countRows(fx.store, "outbox")).toBe(0);
    expect((await fx.store.db.selectFrom("sweep_runs").select("dry_run").executeTakeFirstOrThrow()).dry_run).toBe(1);
  });
});

describe("cooldown", () => {
  it("after a dismiss, the rule stays quiet for that customer until cooldown_until passes", async () => {
    await quietCustomer();
    await sweepAt(fx.store, NOW);
    const nudge = only(await nudges(fx.store));
    expect((await dismissNudge(fx.store, nudge.id, "U0REP", "on holiday", NOW)).ok).toBe(true);
    const cooldownUntil = only(await nudges(fx.store)).cooldownUntil;
    expect(cooldownUntil).toBe(NOW + 14 * DAY_MS);
    expect((await sweepAt(fx.store, daysAfter(1))).created).toBe(0);
    expect((await sweepAt(fx.store, NOW + 14 * DAY_MS - 1)).created).toBe(0);
    const after = await sweepAt(fx.store, NOW + 14 * DAY_MS);
    expect(after.nudges.map((n) => n.ruleId)).toEqual(["no-contact"]);
    expect((await nudges(fx.store)).map((n) => n.status)).toEqual(["dismissed", "open"]);
  });

  it("after a resolve by touch, a rule that still holds stays quiet until cooldown_until passes", async () => {
    const customer = await droppedNps();
    await sweepAt(fx.store, NOW);
    const resolved = await logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: NOW + 1000, source: "cli", now: NOW + 1000 });
    expect(resolved.resolved.map((r) => r.ruleId)).toEqual(["nps-drop"]);
    const cooldownUntil = only(await nudges(fx.store)).cooldownUntil as number;
    expect(cooldownUntil).toBe(NOW + 1000 + 30 * DAY_MS);
    // The NPS drop still holds (latest response 2 days before NOW, within 30 days).
    const npsDrops = async (now: number) => (await sweepAt(fx.store, now)).nudges.filter((n) => n.ruleId === "nps-drop");
    expect(await npsDrops(daysAfter(10))).toEqual([]);
    // Keep the drop recent (the rule reads responses of the last 30 days) right up to the end of the cooldown.
    await addNps(fx.store, customer, 9, cooldownUntil - 5 * DAY_MS);
    await addNps(fx.store, customer, 5, cooldownUntil - DAY_MS);
    expect(await npsDrops(cooldownUntil - 1)).toEqual([]);
    expect((await npsDrops(cooldownUntil)).map((n) => n.customerId)).toEqual(["unhappy"]);
  });
});

describe("snooze", () => {
  it("a snoozed nudge is not re-created while snoozed, then re-opened and re-queued by the first sweep after", async () => {
    await quietCustomer();
    await sweepAt(fx.store, NOW);
    const nudge = only(await nudges(fx.store));
    expect((await snoozeNudge(fx.store, nudge.id, 3, "U0REP", NOW)).ok).toBe(true);
    const during = await sweepAt(fx.store, daysAfter(2));
    expect(during).toMatchObject({ created: 0, reopened: 0 });
    expect(only(await nudges(fx.store))).toMatchObject({ status: "snoozed", snoozedUntil: daysAfter(3) });
    const deliveriesBefore = (await outboxFor(nudge.id)).filter((o) => o.kind === "deliver").length;
    const after = await sweepAt(fx.store, daysAfter(3));
    expect(after).toMatchObject({ created: 0, reopened: 1 });
    expect(only(await nudges(fx.store))).toMatchObject({ id: nudge.id, status: "open", snoozedUntil: null });
    const deliveries = (await outboxFor(nudge.id)).filter((o) => o.kind === "deliver");
    expect(deliveries).toHaveLength(deliveriesBefore + 1);
    expect(deliveries.at(-1)?.status).toBe("pending");
  });

  it("a snoozed nudge whose conditions stopped holding expires instead of re-opening", async () => {
    const customer = await quietCustomer();
    await sweepAt(fx.store, NOW);
    await snoozeNudge(fx.store, only(await nudges(fx.store)).id, 7, "U0REP", NOW);
    await addTouch(fx.store, customer, daysAfter(1));
    const after = await sweepAt(fx.store, daysAfter(8));
    expect(after).toMatchObject({ reopened: 0, expired: 1 });
    expect(only(await nudges(fx.store))).toMatchObject({ status: "expired", closeReason: "conditions-cleared" });
  });
});

describe("expiry", () => {
  it("an NPS-drop nudge expires by itself once the NPS recovers", async () => {
    const customer = await droppedNps();
    await sweepAt(fx.store, NOW);
    await addNps(fx.store, customer, 9, daysAfter(1));
    const report = await sweepAt(fx.store, daysAfter(2));
    expect(report.expired).toBe(1);
    expect(only(await nudges(fx.store))).toMatchObject({ ruleId: "nps-drop", status: "expired", closeReason: "conditions-cleared" });
  });

  it("a no-contact nudge expires when a touch arrives by a path that does not resolve it", async () => {
    const customer = await quietCustomer();
    await sweepAt(fx.store, NOW);
    await addTouch(fx.store, customer, daysAfter(1));
    expect((await sweepAt(fx.store, daysAfter(2))).expired).toBe(1);
    expect(await liveKeys(fx.store)).toEqual([]);
  });

  it("a nudge whose rule was removed from the active rules expires with that reason", async () => {
    await quietCustomer();
    const active = await sweepAt(fx.store, NOW);
    expect(active.created).toBe(1);
    const ruleSet = await ensureActiveRuleSet(fx.store);
    const withoutNoContact = { ...ruleSet, ruleFile: { ...ruleSet.ruleFile, rules: ruleSet.ruleFile.rules.filter((r) => r.id !== "no-contact") } };
    await runSweep(fx.store, { calendar: UTC, now: daysAfter(1), ruleSet: withoutNoContact });
    expect(only(await nudges(fx.store))).toMatchObject({ status: "expired", closeReason: "rule-removed" });
  });
});

describe("resolution by a logged touch", () => {
  it("logTouch resolves the customer's open contact nudges, records who and when, and starts the cooldown", async () => {
    const customer = await quietCustomer();
    await quietCustomer("other");
    await sweepAt(fx.store, NOW);
    const result = await logTouch(fx.store, { customerId: customer, kind: "email", occurredAt: NOW, loggedBy: "U0REP", source: "cli", now: NOW + 60_000 });
    expect(result.resolved.map((r) => r.ruleId)).toEqual(["no-contact"]);
    const rows = await nudges(fx.store);
    expect(rows.find((n) => n.customer === "quiet")).toMatchObject({ status: "resolved", closeReason: "touch", cooldownUntil: NOW + 60_000 + 14 * DAY_MS });
    expect(rows.find((n) => n.customer === "other")?.status).toBe("open");
    const resolved = await fx.store.db.selectFrom("nudges").select("closed_by").where("status", "=", "resolved").executeTakeFirstOrThrow();
    expect(resolved.closed_by).toBe("U0REP");
  });

  it("a touch older than the customer's last touch when the nudge was planned does not resolve it", async () => {
    const customer = await quietCustomer();
    await sweepAt(fx.store, NOW);
    const late = await logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: daysBefore(50), source: "cli", now: NOW });
    expect(late.resolved).toEqual([]);
    expect(only(await nudges(fx.store)).status).toBe("open");
  });

  it("rejects a touch dated in the future and records nothing", async () => {
    const customer = await quietCustomer();
    await expect((async () => logTouch(fx.store, { customerId: customer, kind: "call", occurredAt: daysAfter(1), source: "cli", now: NOW }))()).rejects.toThrow(
      /future/,
    );
    expect(await countRows(fx.store, "touchpoints")).toBe(1);
  });
});
