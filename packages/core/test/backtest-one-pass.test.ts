import { Calendar, type RuleFile, validateRuleFile } from "@keepwarm/rules";
import { DAY_MS, type NewNpsResponse, type NewPurchase, type NewTouchpoint, openStore, type Store, TOUCH_KINDS } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { backtestRuleSet } from "../src/backtest";
import { backtestRuleSetDayByDay } from "../src/backtest-reference";
import { seededRandom } from "../src/demo-data";

/*
 * The one-pass backtest (each customer's history read once, facts kept in sliding
 * windows) against the day-by-day replay it replaced (a full fact scan per day), on
 * randomized small histories and rule files: the reports must be identical, samples,
 * weeks and outcomes included.
 */

const tmp = tempDir("keepwarm-backtest-prop-");
afterAll(() => tmp.cleanup());

const NOW = Date.parse("2026-03-30T10:30:00Z");

type Random = () => number;
const int = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
/** An instant within the last `days` days, sometimes on a day boundary or exactly at a day's last millisecond. */
const instant = (random: Random, days: number) => {
  const day = Math.floor(NOW / DAY_MS) - int(random, 0, days);
  const r = random();
  return Math.min(NOW + int(random, 0, 3) * DAY_MS, day * DAY_MS + (r < 0.1 ? 0 : r < 0.2 ? DAY_MS - 1 : int(random, 0, DAY_MS - 1)));
};

/** Empty the history tables: one database serves every seed (ids keep growing, which changes nothing compared). */
async function clear(store: Store): Promise<void> {
  for (const table of ["purchases", "nps_responses", "touchpoints", "customers"] as const) await store.db.deleteFrom(table).execute();
}

async function randomHistory(store: Store, seed: number): Promise<void> {
  const random = seededRandom(seed);
  await clear(store);
  const touches: NewTouchpoint[] = [];
  const nps: NewNpsResponse[] = [];
  const purchases: NewPurchase[] = [];
  const touch = (customerId: number, kind: string, at: number) =>
    touches.push({ customer_id: customerId, kind, occurred_at: at, logged_at: at, source: "import" });
  const purchase = (customerId: number, at: number, cents: number, key: string) =>
    purchases.push({ customer_id: customerId, occurred_at: at, amount_cents: cents, dedupe_key: key });
  const customers = int(random, 1, 14);
  for (let c = 0; c < customers; c++) {
    const created = instant(random, 150);
    const since = random() < 0.3 ? null : random() < 0.5 ? created : instant(random, 400);
    const row = {
      external_id: `K${seed}-${c}`,
      name: `Customer ${c}`,
      segment: pick(random, ["smb", "enterprise", null]),
      lifecycle_stage: pick(random, ["onboarding", "renewal", null]),
      tier: pick(random, ["gold", "bronze"]),
      owner_slack_id: "U0OWNER1",
      since_at: since,
      renewal_at: random() < 0.5 ? instant(random, 60) + int(random, 0, 90) * DAY_MS : null,
      loyalty_member: random() < 0.4 ? 1 : 0,
      churned_at: random() < 0.2 ? instant(random, 60) : null,
      attributes: JSON.stringify(random() < 0.8 ? { plan: pick(random, ["starter", "pro"]), seats: int(random, 1, 200) } : {}),
      created_at: created,
      updated_at: created,
    };
    const { id } = await store.db.insertInto("customers").values(row).returning("id").executeTakeFirstOrThrow();
    // Same-instant touches (ties broken by id), touches before the window and after "now".
    const at = instant(random, 200);
    for (let n = int(random, 0, 12); n > 0; n--) {
      const when = random() < 0.15 ? at : instant(random, 200);
      touch(id, pick(random, TOUCH_KINDS), when);
    }
    for (let n = int(random, 0, 5); n > 0; n--) nps.push({ customer_id: id, score: int(random, 0, 10), responded_at: instant(random, 200) });
    for (let n = int(random, 0, 9); n > 0; n--) purchase(id, instant(random, 200), int(random, 100, 90_000), `p${seed}-${c}-${n}`);
    // Exactly on the edge of a 30- or 90-day window of some replayed day's end (UTC).
    const edge = (window: number) => (Math.floor(NOW / DAY_MS) - int(random, 1, 45) - window + 1) * DAY_MS - 1;
    if (random() < 0.5) purchase(id, edge(90), 1000, `p${seed}-${c}-edge`);
    if (random() < 0.5) touch(id, pick(random, ["call", "meeting"]), edge(30));
    // Exactly at a replayed day's first millisecond, on the other side of the edge.
    if (random() < 0.3) purchase(id, edge(180) + 1, 500, `p${seed}-${c}-edge180`);
  }
  // In generation order, so ids order same-instant touches as they were made.
  if (touches.length > 0) await store.db.insertInto("touchpoints").values(touches).execute();
  if (nps.length > 0)
    await store.db
      .insertInto("nps_responses")
      .values(nps)
      .onConflict((oc) => oc.doNothing())
      .execute();
  if (purchases.length > 0) await store.db.insertInto("purchases").values(purchases).execute();
}

const CONDITIONS = [
  { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 5 }] },
  {
    all: [
      { fact: "segment", operator: "equal", value: "smb" },
      { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 12 },
    ],
  },
  { all: [{ fact: "touchesLast30Days", operator: "lessThan", value: 2 }] },
  { all: [{ fact: "touchesLast30Days", operator: "equal", value: 1 }] },
  { all: [{ fact: "purchasesLast90Days", operator: "equal", value: 1 }] },
  { all: [{ fact: "npsLatest", operator: "lessThanInclusive", value: 6 }] },
  {
    any: [
      { fact: "npsChange", operator: "lessThanInclusive", value: -3 },
      { fact: "npsCategory", operator: "equal", value: "detractor" },
    ],
  },
  {
    all: [
      { fact: "daysSinceNps", operator: "lessThanInclusive", value: 20 },
      { fact: "npsPrevious", operator: "greaterThanInclusive", value: 7 },
    ],
  },
  {
    all: [
      { fact: "purchasesLast90Days", operator: "greaterThanInclusive", value: 2 },
      { fact: "loyaltyMember", operator: "equal", value: false },
    ],
  },
  {
    all: [
      { fact: "spendLast90Days", operator: "greaterThan", value: 500 },
      { fact: "daysSinceLastPurchase", operator: "greaterThanInclusive", value: 10 },
    ],
  },
  {
    all: [
      { fact: "daysUntilRenewal", operator: "lessThanInclusive", value: 30 },
      { fact: "daysUntilRenewal", operator: "greaterThanInclusive", value: -5 },
    ],
  },
  {
    all: [
      { fact: "lastTouchKind", operator: "in", value: ["call", "email"] },
      { fact: "neverTouched", operator: "equal", value: false },
    ],
  },
  {
    all: [
      { fact: "attributes.plan", operator: "equal", value: "starter" },
      { fact: "attributes.seats", operator: "greaterThan", value: 100 },
    ],
  },
  { all: [{ fact: "daysAsCustomer", operator: "lessThan", value: 60 }, { not: { fact: "tier", operator: "equal", value: "gold" } }] },
  { all: [{ fact: "daysSinceLastMeeting", operator: "greaterThanInclusive", value: 20 }] },
  { all: [{ fact: "daysSinceLastMeetingOrVisit", operator: "lessThan", value: 40 }] },
  {
    any: [
      { fact: "daysSinceLastCall", operator: "lessThanInclusive", value: 10 },
      { fact: "daysSinceLastEmail", operator: "greaterThan", value: 60 },
      { fact: "daysSinceLastVisit", operator: "equal", value: 30 },
      { fact: "daysSinceLastChat", operator: "lessThan", value: 15 },
    ],
  },
  { all: [{ fact: "purchaseTrend", operator: "lessThanInclusive", value: -50 }] },
  { all: [{ fact: "purchasesPrevious90Days", operator: "greaterThanInclusive", value: 2 }] },
  { all: [{ fact: "healthScore", operator: "lessThan", value: 55 }] },
  { all: [{ fact: "healthChange30Days", operator: "lessThanInclusive", value: -10 }] },
  {
    any: [
      { fact: "healthGrade", operator: "in", value: ["D", "F"] },
      { fact: "npsCategory", operator: "equal", value: "promoter" },
    ],
  },
];

/** A health block over facts of every table, so the health facts (and their 30-days-back instant) are replayed too. */
const HEALTH = {
  default: {
    components: [
      { fact: "daysSinceLastTouch", weight: 3, bands: [{ max: 7, score: 100 }, { max: 30, score: 50 }, { score: 0 }] },
      { fact: "npsCategory", weight: 2, bands: [{ is: "promoter", score: 100 }, { is: "passive", score: 60 }, { score: 10 }] },
      {
        fact: "purchasesLast90Days",
        weight: 1,
        bands: [
          { min: 2, score: 100 },
          { min: 1, score: 50 },
        ],
        ifNull: 0,
      },
    ],
  },
  segments: { smb: { components: [{ fact: "touchesLast30Days", weight: 1, bands: [{ min: 2, score: 100 }, { score: 20 }] }] } },
};

function randomRules(random: Random): RuleFile {
  const rules = Array.from({ length: int(random, 1, 5) }, (_, i) => ({
    id: `r${i}`,
    name: `Rule ${i}`,
    enabled: random() < 0.9,
    conditions: pick(random, CONDITIONS),
    nudge: {
      message: "{{customer.name}}: {{explanation}}",
      cooldownDays: pick(random, [0, 1, 3, 14]),
      resolveOnTouch: random() < 0.8,
      holdoutPercent: pick(random, [0, 0, 30]),
    },
  }));
  const result = validateRuleFile({ rules, health: HEALTH });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

describe("one-pass backtest", () => {
  it("gives the day-by-day replay's report, to the sample, on 100 randomized histories and rule files", async () => {
    let fired = 0;
    const store = await openStore(await migratedDatabase(tmp, "histories.db"));
    try {
      for (let seed = 1; seed <= 100; seed++) {
        const random = seededRandom(seed * 7919);
        await randomHistory(store, seed);
        const ruleFile = randomRules(random);
        const options = {
          calendar: new Calendar(pick(random, ["UTC", "America/New_York", "Asia/Kolkata"])),
          now: NOW,
          days: int(random, 1, 45),
          sampleSize: pick(random, [0, 2, 10, 1000]),
        };
        const expected = await backtestRuleSetDayByDay(store, ruleFile, options);
        const actual = await backtestRuleSet(store, ruleFile, options);
        expect(actual, `seed ${seed}`).toEqual(expected);
        fired += expected.totals.fired;
      }
    } finally {
      await store.close();
    }
    // The histories must exercise the policy, not agree on empty reports.
    expect(fired).toBeGreaterThan(300);
    // A scan per replayed day on PostgreSQL, on a shared machine: give it room.
  }, 180_000);

  it("reads each customer's history in chunks: customers beyond the first chunk count the same", async () => {
    const store = await openStore(await migratedDatabase(tmp, "many.db"));
    try {
      const since = NOW - 400 * DAY_MS;
      for (let start = 0; start < 4_500; start += 500) {
        const batch = Array.from({ length: 500 }, (_, i) => start + i);
        const rows = await store.db
          .insertInto("customers")
          .values(
            batch.map((c) => ({
              external_id: `M${c}`,
              name: `Many ${c}`,
              segment: "smb",
              since_at: since,
              loyalty_member: 0,
              attributes: "{}",
              created_at: since,
              updated_at: since,
            })),
          )
          .returning(["id", "external_id"])
          .execute();
        const idOf = new Map(rows.map((row) => [row.external_id, row.id]));
        await store.db
          .insertInto("touchpoints")
          .values(
            batch.map((c) => {
              const at = NOW - (c % 40) * DAY_MS;
              return { customer_id: idOf.get(`M${c}`) as number, kind: "call", occurred_at: at, logged_at: at, source: "import" };
            }),
          )
          .execute();
      }
      const validated = validateRuleFile({ rules: [{ id: "quiet", name: "Quiet", conditions: CONDITIONS[0], nudge: { message: "{{explanation}}" } }] });
      if (!validated.valid) throw new Error("invalid");
      const options = { calendar: new Calendar("UTC"), now: NOW, days: 20 };
      const actual = await backtestRuleSet(store, validated.ruleFile, options);
      expect(actual).toEqual(await backtestRuleSetDayByDay(store, validated.ruleFile, options));
      expect(actual.evaluations).toBe(4_500 * 20);
    } finally {
      await store.close();
    }
  });
});
