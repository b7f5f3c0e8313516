import { buildFactProgram, Calendar, type Facts, validateRuleFile } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { factsOfCustomers } from "../src/facts/customer-facts";
import { backtestRuleSet, importCsv, logTouch, parseTouchTokens, tokensFromArgs } from "../src/index";
import { freshIngestStore, type IngestFixture } from "./ingest-fixtures";
import { addCustomer, addTouch, sweepAt } from "./sweep-fixtures";

/*
 * Days are calendar days of KEEPWARM_TZ everywhere: a window is counted in local
 * midnights (not in 24-hour steps, which a DST change makes 23 or 25 hours), and a bare
 * date is that calendar day there (not UTC midnight), at both ends of the date line.
 */

let fx: IngestFixture;
beforeEach(async () => {
  fx = await freshIngestStore();
});
afterEach(() => fx.close());

async function factsAt(store: Store, names: string[], now: number, calendar: Calendar): Promise<Record<string, Facts>> {
  const rows = await factsOfCustomers(store, buildFactProgram(names), { now, calendar });
  const ids = new Map((await store.db.selectFrom("customers").select(["id", "external_id"]).execute()).map((r) => [r.id, r.external_id]));
  return Object.fromEntries(rows.map((r) => [ids.get(r.customer.id), r.facts]));
}

/** YYYY-MM-DD of the local day `days` days before `now`'s local day. */
const localDate = (calendar: Calendar, now: number, days: number) => calendar.isoDate(calendar.startOfDay(calendar.dayNumber(now) - days));

describe("a bare date in a CSV import is that calendar day in KEEPWARM_TZ", () => {
  // 12:00 UTC: 02:00 the next day in Kiritimati (UTC+14), 01:00 the same day in Pago Pago (UTC−11), 00:00 in Etc/GMT+12 (UTC−12).
  const NOW = Date.parse("2026-06-15T12:00:00Z");
  for (const zone of ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Etc/GMT+12"]) {
    it(`${zone}: today's date is accepted (not "in the future"), 0 days ago, and since 100 days back is 100 days as a customer`, async () => {
      const calendar = new Calendar(zone);
      const today = localDate(calendar, NOW, 0);
      const customers = fx.csv("customers.csv", ["id,name,since,renewal_date", `C-1,Acme,${localDate(calendar, NOW, 100)},${localDate(calendar, NOW, -10)}`]);
      expect(await importCsv(fx.store, "customers", customers, { now: NOW, calendar })).toMatchObject({ committed: true, inserted: 1 });
      const touches = fx.csv("touches.csv", ["customer_id,occurred_at,kind", `C-1,${today},meeting`]);
      expect(await importCsv(fx.store, "touches", touches, { now: NOW, calendar })).toMatchObject({ committed: true, inserted: 1, invalid: [] });
      const facts = await factsAt(fx.store, ["daysSinceLastTouch", "daysAsCustomer", "daysUntilRenewal", "touchesLast30Days"], NOW, calendar);
      expect(facts["C-1"]).toMatchObject({ daysSinceLastTouch: 0, daysAsCustomer: 100, daysUntilRenewal: 10, touchesLast30Days: 1 });
    });
  }

  it("Los Angeles: a date is as many days ago via import as via `keepwarm touch` (2, not 3)", async () => {
    const LA = new Calendar("America/Los_Angeles");
    const NOW = Date.parse("2026-06-15T12:00:00Z"); // 05:00 PDT
    const customers = fx.csv("customers.csv", ["id,name,since", "C-1,Acme,2025-01-01", "C-2,Globex,2025-01-01"]);
    expect(await importCsv(fx.store, "customers", customers, { now: NOW, calendar: LA })).toMatchObject({ committed: true });
    const touches = fx.csv("touches.csv", ["customer_id,occurred_at,kind", "C-1,2026-06-13,call"]);
    expect(await importCsv(fx.store, "touches", touches, { now: NOW, calendar: LA })).toMatchObject({ committed: true, inserted: 1 });
    const typed = await parseTouchTokens(fx.store, tokensFromArgs(["C-2", "call", "2026-06-13"]), NOW, LA);
    if (!typed.ok) throw new Error(JSON.stringify(typed));
    await logTouch(fx.store, { customerId: typed.customer.id, kind: typed.kind, occurredAt: typed.occurredAt, source: "cli", now: NOW });
    const facts = await factsAt(fx.store, ["daysSinceLastTouch"], NOW, LA);
    expect([facts["C-1"]?.daysSinceLastTouch, facts["C-2"]?.daysSinceLastTouch]).toEqual([2, 2]);
    // The since date too: 2025-01-01 is local midnight, so 530 calendar days.
    expect((await factsAt(fx.store, ["daysAsCustomer"], NOW, LA))["C-1"]?.daysAsCustomer).toBe(530);
  });
});

describe("touches in the last 30 days are 30 calendar days", () => {
  const LA = new Calendar("America/Los_Angeles");
  // 12:00 PDT on 2026-03-20; 30 days back is 2026-02-18, before the change to summer time on 2026-03-08.
  const NOW = Date.parse("2026-03-20T19:00:00Z");
  const at = (local: string, offset: string) => Date.parse(`${local}${offset}`);

  it("across a DST change: two touches both 30 days ago count 0, two both 29 days ago count 2 (not 0 and 1 as 720 hours gave)", async () => {
    const { store } = fx;
    const old = await addCustomer(store, { id: "OLD" });
    await addTouch(store, old, at("2026-02-18T00:30:00", "-08:00"));
    await addTouch(store, old, at("2026-02-18T23:30:00", "-08:00"));
    const recent = await addCustomer(store, { id: "RECENT" });
    await addTouch(store, recent, at("2026-02-19T00:30:00", "-08:00"));
    await addTouch(store, recent, at("2026-02-19T23:30:00", "-08:00"));
    const facts = await factsAt(store, ["touchesLast30Days", "daysSinceLastTouch"], NOW, LA);
    expect(facts.OLD).toMatchObject({ touchesLast30Days: 0, daysSinceLastTouch: 30 });
    expect(facts.RECENT).toMatchObject({ touchesLast30Days: 2, daysSinceLastTouch: 29 });

    // The sweep and the backtest count the same days: the backtest replays the end of each past day, so it runs a day later.
    const checked = validateRuleFile({
      rules: [
        {
          id: "no-touch-30",
          name: "No touch in 30 days",
          conditions: { all: [{ fact: "touchesLast30Days", operator: "equal", value: 0 }] },
          nudge: { message: "{{explanation}}" },
        },
      ],
    });
    if (!checked.valid) throw new Error(JSON.stringify(checked.errors));
    const sweep = await sweepAt(store, NOW, { dryRun: true, calendar: LA, ruleSet: { version: 0, ruleFile: checked.ruleFile, json: "" } });
    expect(sweep.nudges.map((n) => [n.customerId, n.explanation])).toEqual([["OLD", "0 touches in the last 30 days (rule: is 0)"]]);
    const backtest = await backtestRuleSet(store, checked.ruleFile, { calendar: LA, now: Date.parse("2026-03-21T19:00:00Z"), days: 1 });
    expect(backtest.rules[0]?.sample.map((n) => [n.customerId, n.date])).toEqual([["OLD", "2026-03-20"]]);
  });

  for (const zone of ["America/Los_Angeles", "Pacific/Kiritimati", "Etc/GMT+12"]) {
    it(`${zone}: the window starts at local midnight 29 days before today's`, async () => {
      const calendar = new Calendar(zone);
      const { store } = fx;
      const edge = calendar.startOfDay(calendar.dayNumber(NOW) - 29);
      const out = await addCustomer(store, { id: "OUT" });
      await addTouch(store, out, edge - 1);
      const inside = await addCustomer(store, { id: "IN" });
      await addTouch(store, inside, edge);
      const facts = await factsAt(store, ["touchesLast30Days", "daysSinceLastTouch"], NOW, calendar);
      expect(facts.OUT).toMatchObject({ touchesLast30Days: 0, daysSinceLastTouch: 30 });
      expect(facts.IN).toMatchObject({ touchesLast30Days: 1, daysSinceLastTouch: 29 });
    });
  }
});

describe("the backtest's outcome window is 7 calendar days", () => {
  it("a touch at the end of the 7th local day after the nudge counts across a DST change; one a millisecond later does not", async () => {
    const LA = new Calendar("America/Los_Angeles");
    const { store } = fx;
    // Nudged at the end of 2026-03-05 (PST); the 7th day after is 2026-03-12 (PDT): 167 hours of wall clock, not 168.
    const NOW = Date.parse("2026-03-20T19:00:00Z");
    const nudgeDay = LA.dayNumber(Date.parse("2026-03-05T12:00:00-08:00"));
    const endOfSeventh = LA.startOfDay(nudgeDay + 8) - 1;
    const early = await addCustomer(store, { id: "A", since: Date.parse("2026-01-01T00:00:00-08:00") });
    await addTouch(store, early, endOfSeventh);
    const late = await addCustomer(store, { id: "B", since: Date.parse("2026-01-01T00:00:00-08:00") });
    await addTouch(store, late, endOfSeventh + 1);
    const checked = validateRuleFile({
      rules: [
        {
          id: "long-customer",
          name: "Customer for 63 days",
          conditions: { all: [{ fact: "daysAsCustomer", operator: "equal", value: 63 }] },
          nudge: { message: "{{explanation}}" },
        },
      ],
    });
    if (!checked.valid) throw new Error(JSON.stringify(checked.errors));
    const days = LA.dayNumber(NOW) - nudgeDay;
    const report = await backtestRuleSet(store, checked.ruleFile, { calendar: LA, now: NOW, days });
    expect(report.rules[0]?.sample.map((n) => [n.customerId, n.date, n.touchedWithin7Days])).toEqual([
      ["A", "2026-03-05", true],
      ["B", "2026-03-05", false],
    ]);
  });
});
