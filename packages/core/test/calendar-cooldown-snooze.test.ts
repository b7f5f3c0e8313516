import { Calendar, validateRuleFile } from "@keepwarm/rules";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dismissNudge, logTouch, snoozeNudge } from "../src/index";
import { addCustomer, type Fixture, freshStore, nudges, sweepAt } from "./sweep-fixtures";

/*
 * A snooze of N days and a cooldown of N days are N calendar days of KEEPWARM_TZ: the
 * same wall-clock time N days later, so 71 or 73 hours for 3 days across a DST change,
 * never 72. Europe/Berlin leaves summer time on 2026-10-25; America/New_York enters it
 * on 2026-03-08.
 */
let fx: Fixture;
beforeEach(async () => {
  fx = await freshStore();
});
afterEach(() => fx.close());

const checked = validateRuleFile({
  rules: [
    {
      id: "no-touch",
      name: "No touch in 30 days",
      conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
      nudge: { message: "{{explanation}}", cooldownDays: 3 },
    },
  ],
});
if (!checked.valid) throw new Error(JSON.stringify(checked.errors));
const ruleSet = { version: 0, ruleFile: checked.ruleFile, json: "" };

const cases = [
  // Friday 10:00 local; three calendar days later is Monday 10:00 local, after the change.
  { zone: "Europe/Berlin", friday: "2026-10-23T10:00:00+02:00", monday: "2026-10-26T10:00:00+01:00", hours: 73 },
  { zone: "America/New_York", friday: "2026-03-06T10:00:00-05:00", monday: "2026-03-09T10:00:00-04:00", hours: 71 },
];

describe("snooze and cooldown count calendar days in KEEPWARM_TZ", () => {
  for (const { zone, friday, monday, hours } of cases) {
    it(`${zone}: snoozed, dismissed or touched on Friday 10:00 for 3 days lasts until Monday 10:00 local (${hours} h), on both sides of it`, async () => {
      const calendar = new Calendar(zone);
      const { store } = fx;
      const FRIDAY = Date.parse(friday);
      const MONDAY = Date.parse(monday);
      expect(MONDAY - FRIDAY).toBe(hours * 3_600_000);
      for (const id of ["SNOOZED", "DISMISSED", "TOUCHED"]) await addCustomer(store, { id });
      await sweepAt(store, FRIDAY, { calendar, ruleSet });
      const byCustomer = async () => new Map((await nudges(store)).map((n) => [n.customer, n]));
      const first = await byCustomer();

      expect(await snoozeNudge(store, first.get("SNOOZED")?.id ?? 0, 3, "U0REP", FRIDAY, calendar)).toMatchObject({ ok: true });
      expect(await dismissNudge(store, first.get("DISMISSED")?.id ?? 0, "U0REP", null, FRIDAY, calendar)).toMatchObject({ ok: true });
      const touched = (await store.db.selectFrom("customers").select("id").where("external_id", "=", "TOUCHED").executeTakeFirstOrThrow()).id;
      const logged = await logTouch(store, { customerId: touched, kind: "call", occurredAt: FRIDAY, source: "cli", now: FRIDAY, calendar });
      expect(logged.resolved).toHaveLength(1);

      const closed = await byCustomer();
      expect(closed.get("SNOOZED")).toMatchObject({ status: "snoozed", snoozedUntil: MONDAY });
      expect(closed.get("DISMISSED")).toMatchObject({ status: "dismissed", cooldownUntil: MONDAY });
      expect(closed.get("TOUCHED")).toMatchObject({ status: "resolved", cooldownUntil: MONDAY });

      // A minute before Monday 10:00 local, the snooze and the cooldown still hold.
      await sweepAt(store, MONDAY - 60_000, { calendar, ruleSet });
      const before = await byCustomer();
      expect(before.get("SNOOZED")?.status).toBe("snoozed");
      expect((await nudges(store)).filter((n) => n.customer === "DISMISSED")).toHaveLength(1);

      // A minute after, the snoozed nudge is back and the dismissed customer is nudged again.
      await sweepAt(store, MONDAY + 60_000, { calendar, ruleSet });
      const after = await nudges(store);
      expect(after.find((n) => n.customer === "SNOOZED")?.status).toBe("open");
      expect(after.filter((n) => n.customer === "DISMISSED").map((n) => n.status)).toEqual(["dismissed", "open"]);
    });
  }

  it("without a time zone (UTC), 3 days are 72 hours as before", async () => {
    const { store } = fx;
    const FRIDAY = Date.parse("2026-10-23T10:00:00Z");
    await addCustomer(store, { id: "SNOOZED" });
    await sweepAt(store, FRIDAY, { ruleSet });
    const [nudge] = await nudges(store);
    await snoozeNudge(store, nudge?.id ?? 0, 3, "U0REP", FRIDAY);
    expect((await nudges(store))[0]?.snoozedUntil).toBe(FRIDAY + 72 * 3_600_000);
  });
});
