import { Calendar } from "@keepwarm/rules";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCustomer, addNps, addPurchases, addTouch, daysBefore, type Fixture, freshStore, NOW, nudges, sweepAt } from "./sweep-fixtures";

/**
 * The default rule file at its edges. One store holds one customer per case; one sweep
 * at NOW (2026-06-15T12:00Z, UTC) plans the nudges; each test reads its customers'.
 */
let fx: Fixture;
const at = (iso: string) => Date.parse(iso);
const rulesFor = async (customer: string): Promise<string[]> =>
  (await nudges(fx.store))
    .filter((n) => n.customer === customer)
    .map((n) => n.ruleId)
    .sort();
const explanationOf = async (customer: string, ruleId: string): Promise<string> =>
  (await nudges(fx.store)).find((n) => n.customer === customer && n.ruleId === ruleId)?.explanation ?? "";

beforeAll(async () => {
  fx = await freshStore();
  const s = fx.store;
  const touched = async (id: string, segment: string | null, touchAt: number) => addTouch(s, await addCustomer(s, { id, segment }), touchAt);
  // Contact cadence, in calendar days: 13.5 elapsed days can be 13 or 14 days.
  await touched("ent-13", "enterprise", at("2026-06-02T00:00:00Z"));
  await touched("ent-14", "enterprise", at("2026-06-01T23:59:00Z"));
  await touched("ent-40", "enterprise", daysBefore(40));
  await touched("smb-29", "smb", at("2026-05-17T00:00:00Z"));
  await touched("smb-30", "smb", at("2026-05-16T23:59:00Z"));
  await touched("nosegment-30", null, daysBefore(30));
  await addCustomer(s, { id: "never-29", segment: "smb", since: daysBefore(29) });
  await addCustomer(s, { id: "never-30", segment: "smb", since: daysBefore(30) });
  await addCustomer(s, { id: "never-ent-14", segment: "enterprise", since: daysBefore(14) });
  // NPS, for customers touched yesterday (no contact nudge).
  const nps = async (id: string, scores: Array<[number, number]>) => {
    const customer = await addCustomer(s, { id, segment: "smb" });
    await addTouch(s, customer, daysBefore(1));
    for (const [score, ago] of scores) await addNps(s, customer, score, daysBefore(ago));
  };
  await nps("nps-single-2", [[2, 3]]);
  await nps("nps-9-6", [
    [9, 20],
    [6, 2],
  ]);
  await nps("nps-6-3", [
    [6, 20],
    [3, 2],
  ]);
  await nps("nps-10-8", [
    [10, 20],
    [8, 2],
  ]);
  await nps("nps-8-6", [
    [8, 20],
    [6, 2],
  ]);
  await nps("nps-7-6", [
    [7, 20],
    [6, 2],
  ]);
  await nps("nps-6-5", [
    [6, 20],
    [5, 2],
  ]);
  await nps("nps-5-9", [
    [5, 20],
    [9, 2],
  ]);
  await nps("nps-drop-30-days-ago", [
    [9, 60],
    [2, 30],
  ]);
  await nps("nps-drop-31-days-ago", [
    [9, 60],
    [2, 31],
  ]);
  // Purchases in the last 90 days.
  const buyer = async (id: string, loyalty: boolean, ages: number[]) => {
    const customer = await addCustomer(s, { id, segment: "smb", loyalty });
    await addTouch(s, customer, daysBefore(1));
    await addPurchases(
      s,
      customer,
      ages.map((age) => daysBefore(age)),
    );
  };
  await buyer("buys-5", false, [1, 10, 20, 40, 89]);
  await buyer("buys-4", false, [1, 10, 20, 40]);
  await buyer("buys-4-plus-one-old", false, [1, 10, 20, 40, 91]);
  await buyer(
    "loyal-buys-20",
    true,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  await sweepAt(s, NOW);
});
afterAll(() => fx.close());

describe("no contact (enterprise: 14 calendar days)", () => {
  it("stays quiet at 13 calendar days and nudges at exactly 14", async () => {
    expect(await rulesFor("ent-13")).toEqual([]);
    expect(await rulesFor("ent-14")).toEqual(["no-contact-enterprise"]);
    expect(await explanationOf("ent-14", "no-contact-enterprise")).toMatch(/^Last touch \(call\) 14 days ago \(rule: ≥ 14 days\); Segment enterprise$/);
  });

  it("gives an enterprise customer only the enterprise rule, however long it is quiet", async () => {
    expect(await rulesFor("ent-40")).toEqual(["no-contact-enterprise"]);
  });

  it("counts a never-touched customer from its since date", async () => {
    expect(await rulesFor("never-ent-14")).toEqual(["no-contact-enterprise"]);
    expect(await explanationOf("never-ent-14", "no-contact-enterprise")).toContain("Never touched (customer for 14 days)");
  });
});

describe("no contact (other segments: 30 calendar days)", () => {
  it("stays quiet at 29 calendar days and nudges at exactly 30", async () => {
    expect(await rulesFor("smb-29")).toEqual([]);
    expect(await rulesFor("smb-30")).toEqual(["no-contact"]);
  });

  it("applies to a customer with no segment at all", async () => {
    expect(await rulesFor("nosegment-30")).toEqual(["no-contact"]);
  });

  it("counts a never-touched customer from its since date: 29 days quiet, 30 days nudged", async () => {
    expect(await rulesFor("never-29")).toEqual([]);
    expect(await rulesFor("never-30")).toEqual(["no-contact"]);
    expect(await explanationOf("never-30", "no-contact")).toBe("Never touched (customer for 30 days) (rule: ≥ 30 days); Segment smb");
  });
});

describe("NPS drop", () => {
  it("does not fire on a single response, even a detractor one", async () => {
    expect(await rulesFor("nps-single-2")).toEqual([]);
  });

  it("fires on a drop of exactly 3 points, from any score", async () => {
    expect(await rulesFor("nps-9-6")).toEqual(["nps-drop"]);
    expect(await rulesFor("nps-6-3")).toEqual(["nps-drop"]);
    expect(await explanationOf("nps-9-6", "nps-drop")).toMatch(/^NPS 9 → 6 \(rule: /);
  });

  it("does not fire on a drop of 2 that stays above detractor", async () => {
    expect(await rulesFor("nps-10-8")).toEqual([]);
  });

  it("fires on a fall into detractor, even by 1 or 2 points (7 → 6, 8 → 6)", async () => {
    expect(await rulesFor("nps-7-6")).toEqual(["nps-drop"]);
    expect(await rulesFor("nps-8-6")).toEqual(["nps-drop"]);
    expect(await explanationOf("nps-7-6", "nps-drop")).toMatch(/^NPS 7 → 6 /);
  });

  it("does not fire on a small move within detractor or on a rise", async () => {
    expect(await rulesFor("nps-6-5")).toEqual([]);
    expect(await rulesFor("nps-5-9")).toEqual([]);
  });

  it("only counts a latest response from the last 30 days", async () => {
    expect(await rulesFor("nps-drop-30-days-ago")).toEqual(["nps-drop"]);
    expect(await rulesFor("nps-drop-31-days-ago")).toEqual([]);
  });
});

describe("frequent buyer outside the loyalty program", () => {
  it("fires at 5 purchases in 90 days and not at 4", async () => {
    expect(await rulesFor("buys-5")).toEqual(["frequent-buyer-no-loyalty"]);
    expect(await explanationOf("buys-5", "frequent-buyer-no-loyalty")).toBe("5 purchases in 90 days (rule: ≥ 5); Not in the loyalty program");
    expect(await rulesFor("buys-4")).toEqual([]);
  });

  it("does not count a purchase older than 90 days", async () => {
    expect(await rulesFor("buys-4-plus-one-old")).toEqual([]);
  });

  it("never nudges a loyalty member, however much they buy", async () => {
    expect(await rulesFor("loyal-buys-20")).toEqual([]);
  });
});

describe("days in KEEPWARM_TZ", () => {
  it("counts local midnights: 13 days in UTC can be 14 in New York", async () => {
    const local = await freshStore();
    try {
      // 2026-06-01 22:00 in New York; NOW is 2026-06-15 08:00 there, 12:00 UTC.
      await addTouch(local.store, await addCustomer(local.store, { id: "ny", segment: "enterprise" }), at("2026-06-02T02:00:00Z"));
      const utc = await sweepAt(local.store, NOW, { dryRun: true });
      expect(utc.nudges).toEqual([]);
      const newYork = await sweepAt(local.store, NOW, { dryRun: true, calendar: new Calendar("America/New_York") });
      expect(newYork.nudges.map((n) => `${n.ruleId} ${n.customerId}`)).toEqual(["no-contact-enterprise ny"]);
    } finally {
      await local.close();
    }
  });
});
