import { Calendar, type RuleFile, validateRuleFile } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store, TOUCH_KINDS } from "@keepwarm/store";
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

async function randomHistory(seed: number): Promise<Store> {
  const random = seededRandom(seed);
  const store = await openStore(tmp.file(`h${seed}.db`));
  const insertCustomer = store.sqlite.prepare(
    `INSERT INTO customers (external_id, name, segment, lifecycle_stage, tier, owner_slack_id, since_at, renewal_at, loyalty_member, churned_at, attributes, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'U0OWNER1', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const touch = store.sqlite.prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, source) VALUES (?, ?, ?, ?, 'import')");
  const nps = store.sqlite.prepare("INSERT INTO nps_responses (customer_id, score, responded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const purchase = store.sqlite.prepare("INSERT INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, ?, ?)");
  store.sqlite.transaction(() => {
    const customers = int(random, 1, 14);
    for (let c = 0; c < customers; c++) {
      const created = instant(random, 150);
      const since = random() < 0.3 ? null : random() < 0.5 ? created : instant(random, 400);
      const id = Number(
        insertCustomer.run(
          `K${seed}-${c}`,
          `Customer ${c}`,
          pick(random, ["smb", "enterprise", null]),
          pick(random, ["onboarding", "renewal", null]),
          pick(random, ["gold", "bronze"]),
          since,
          random() < 0.5 ? instant(random, 60) + int(random, 0, 90) * DAY_MS : null,
          random() < 0.4 ? 1 : 0,
          random() < 0.2 ? instant(random, 60) : null,
          JSON.stringify(random() < 0.8 ? { plan: pick(random, ["starter", "pro"]), seats: int(random, 1, 200) } : {}),
          created,
          created,
        ).lastInsertRowid,
      );
      // Same-instant touches (ties broken by id), touches before the window and after "now".
      const at = instant(random, 200);
      for (let n = int(random, 0, 12); n > 0; n--) {
        const when = random() < 0.15 ? at : instant(random, 200);
        touch.run(id, pick(random, TOUCH_KINDS), when, when);
      }
      for (let n = int(random, 0, 5); n > 0; n--) nps.run(id, int(random, 0, 10), instant(random, 200));
      for (let n = int(random, 0, 9); n > 0; n--) purchase.run(id, instant(random, 200), int(random, 100, 90_000), `p${seed}-${c}-${n}`);
      // Exactly on the edge of a 30- or 90-day window of some replayed day's end (UTC).
      const edge = (window: number) => (Math.floor(NOW / DAY_MS) - int(random, 1, 45) - window + 1) * DAY_MS - 1;
      if (random() < 0.5) purchase.run(id, edge(90), 1000, `p${seed}-${c}-edge`);
      if (random() < 0.5) touch.run(id, "call", edge(30), edge(30));
    }
  })();
  return store;
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
];

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
  const result = validateRuleFile({ rules });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

describe("one-pass backtest", () => {
  it("gives the day-by-day replay's report, to the sample, on 100 randomized histories and rule files", async () => {
    let fired = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const random = seededRandom(seed * 7919);
      const store = await randomHistory(seed);
      try {
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
      } finally {
        await store.close();
      }
    }
    // The histories must exercise the policy, not agree on empty reports.
    expect(fired).toBeGreaterThan(300);
  });

  it("reads each customer's history in chunks: customers beyond the first chunk count the same", async () => {
    const store = await openStore(tmp.file("many.db"));
    try {
      const insert = store.sqlite.prepare("INSERT INTO customers (external_id, name, segment, since_at, created_at, updated_at) VALUES (?, ?, 'smb', ?, ?, ?)");
      const touch = store.sqlite.prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, source) VALUES (?, 'call', ?, ?, 'import')");
      store.sqlite.transaction(() => {
        for (let c = 0; c < 4_500; c++) {
          const id = Number(insert.run(`M${c}`, `Many ${c}`, NOW - 400 * DAY_MS, NOW - 400 * DAY_MS, NOW - 400 * DAY_MS).lastInsertRowid);
          const at = NOW - (c % 40) * DAY_MS;
          touch.run(id, at, at);
        }
      })();
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
