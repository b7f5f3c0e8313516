// Module by module, not the package index: benchmarks should not break on unrelated work in progress.
import { seededRandom } from "../packages/core/src/demo-data";
import { applyRuleSet } from "../packages/core/src/rule-sets";
import { defaultRulesText } from "../packages/rules/src/index";
import { DAY_MS, openSeedLoader, openStore, TOUCH_KINDS } from "../packages/store/src/index";

/** The instant every benchmark evaluates at: fixed, so runs are comparable. */
export const BENCH_NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

const SEGMENTS = ["enterprise", "mid-market", "mid-market", "mid-market", "smb", "smb", "smb", "smb", "consumer", "consumer"];
const STAGES = ["onboarding", "adoption", "expansion", "renewal"];
const TIERS = ["bronze", "bronze", "silver", "silver", "gold", "platinum"];
const PLANS = ["starter", "pro", "enterprise"];
const REGIONS = ["emea", "amer", "apac"];

/**
 * The three default triggers (four rules) and six more reading other facts: ten rules.
 * With `health`, the default file's health block too and an eleventh rule reading the
 * health score and its 30-day change (so the sweep computes the score, now and then).
 */
export function benchRulesText(options: { health?: boolean } = {}): string {
  const defaults = JSON.parse(defaultRulesText()) as { rules: unknown[]; health?: unknown };
  const more = [
    rule("renewal-soon-quiet", "Renewal within 30 days, no touch this month", {
      all: [
        { fact: "daysUntilRenewal", operator: "greaterThanInclusive", value: 0 },
        { fact: "daysUntilRenewal", operator: "lessThanInclusive", value: 30 },
        { fact: "touchesLast30Days", operator: "equal", value: 0 },
      ],
    }),
    rule("big-spender-cooling", "Big spender who stopped buying", {
      all: [
        { fact: "spendLast90Days", operator: "greaterThanInclusive", value: 1500 },
        { fact: "daysSinceLastPurchase", operator: "greaterThanInclusive", value: 30 },
      ],
    }),
    rule("onboarding-check-in", "Onboarding customer with fewer than 2 touches this month", {
      all: [
        { fact: "lifecycleStage", operator: "equal", value: "onboarding" },
        { fact: "touchesLast30Days", operator: "lessThan", value: 2 },
      ],
    }),
    rule("top-tier-quiet", "Gold or platinum customer quiet for 21+ days", {
      all: [
        { fact: "tier", operator: "in", value: ["gold", "platinum"] },
        { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 21 },
      ],
    }),
    rule("seat-expansion", "Many seats on the starter plan", {
      all: [
        { fact: "attributes.plan", operator: "equal", value: "starter" },
        { fact: "attributes.seats", operator: "greaterThanInclusive", value: 150 },
      ],
    }),
    rule("lapsed-buyer", "Former buyer, nothing in 90 days, not a loyalty member", {
      all: [
        { fact: "daysSinceLastPurchase", operator: "greaterThanInclusive", value: 90 },
        { not: { fact: "loyaltyMember", operator: "equal", value: true } },
        {
          any: [
            { fact: "segment", operator: "in", value: ["smb", "consumer"] },
            { fact: "npsCategory", operator: "equal", value: "detractor" },
          ],
        },
      ],
    }),
  ];
  if (!options.health) return JSON.stringify({ rules: [...defaults.rules, ...more] }, null, 2);
  const declining = rule("health-declining", "Health fell 20+ points in 30 days, or is failing", {
    any: [
      { fact: "healthChange30Days", operator: "lessThanInclusive", value: -20 },
      { fact: "healthGrade", operator: "equal", value: "F" },
    ],
  });
  return JSON.stringify({ health: defaults.health, rules: [...defaults.rules, ...more, declining] }, null, 2);
}

function rule(id: string, name: string, conditions: unknown) {
  return { id, name, enabled: true, conditions, nudge: { message: "{{customer.name}}: {{explanation}}.", priority: "normal", cooldownDays: 14 } };
}

export interface Generated {
  customers: number;
  touches: number;
  nps: number;
  purchases: number;
  ms: number;
}

/**
 * "realistic": a healthy book, where a sweep finds a minority of customers at risk
 * (about 13 % matched by some rule: see docs/performance.md). Most customers are
 * touched on a cadence, answer NPS consistently and buy regularly; a few have gone
 * quiet, dropped their score or stopped buying. "stress": the first benchmark's data,
 * uniform random histories where 84 % of customers match some rule (every per-match
 * cost counts). Both keep the averages of the issue: 10 touches, 2 NPS responses and
 * 5 purchases per customer.
 */
export type Profile = "realistic" | "stress";
export const PROFILES: readonly Profile[] = ["realistic", "stress"];

/**
 * N customers with histories (see Profile). Events are written in time order across
 * customers, as they arrive in production, so a customer's rows are scattered over the
 * table and the scan pays for it as it would for real.
 */
export async function generate(path: string, customers: number, profile: Profile = "realistic", seed = 42): Promise<Generated> {
  const started = performance.now();
  const store = await openStore(path);
  const loader = openSeedLoader(store);
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const now = BENCH_NOW;
  const today = Math.floor(now / DAY_MS);

  // Events are bucketed by day and packed into one number each (customer, ms of day, small payload).
  const touchDays: number[][] = Array.from({ length: 181 }, () => []);
  const npsDays: number[][] = Array.from({ length: 366 }, () => []);
  const purchaseDays: number[][] = Array.from({ length: 366 }, () => []);
  const pack = (customer: number, msOfDay: number, payload: number) => customer * 2 ** 31 + msOfDay * 16 + payload;
  const touchAt = (id: number, daysAgo: number) => touchDays[daysAgo]?.push(pack(id, int(0, DAY_MS - 1), int(0, TOUCH_KINDS.length - 1)));
  loader.batch((write) => {
    for (let id = 1; id <= customers; id++) {
      const sinceDays = int(30, 1500);
      const since = now - sinceDays * DAY_MS - int(0, DAY_MS - 1);
      const stage = profile === "stress" ? pick(STAGES) : sinceDays < 120 ? "onboarding" : pick(STAGES.slice(1));
      const seats = profile === "stress" || random() < 0.06 ? int(1, 200) : int(1, 60);
      write.customer([
        id,
        `C${String(id).padStart(7, "0")}`,
        `Customer ${id}`,
        pick(SEGMENTS),
        stage,
        random() < 0.05 ? null : `U${String(id % 50).padStart(8, "0")}`,
        pick(TIERS),
        since,
        random() < 0.7 ? now + int(-30, 365) * DAY_MS : null,
        random() < 0.4 ? 1 : 0,
        random() < 0.02 ? now - int(1, 300) * DAY_MS : null,
        JSON.stringify({ plan: pick(PLANS), seats, region: pick(REGIONS) }),
        since,
        since,
      ]);
      if (profile === "stress") {
        for (let n = int(0, 20); n > 0; n--) touchAt(id, int(0, 180));
        for (let n = int(0, 4); n > 0; n--) npsDays[int(0, 365)]?.push(pack(id, int(0, DAY_MS - 1), int(0, 10)));
        for (let n = int(0, 10); n > 0; n--) purchaseDays[int(0, 365)]?.push(pack(id, int(0, DAY_MS - 1), 0));
        continue;
      }
      // Touches: the last one a few days ago on a healthy account, weeks or months ago on the 7 % gone quiet.
      const quiet = random() < 0.07 ? int(30, 150) : int(0, 12);
      const touches = stage === "onboarding" ? int(8, 20) : int(1, 19);
      touchAt(id, quiet);
      for (let n = touches - 1; n > 0; n--) touchAt(id, int(quiet, 180));
      // NPS: each customer answers around their own level; 4 % of them recently dropped.
      const level = random() < 0.55 ? int(9, 10) : random() < 0.65 ? int(7, 8) : int(3, 6);
      const responses = int(0, 4);
      const dropped = random() < 0.04;
      for (let n = 0; n < responses; n++) {
        const latest = n === responses - 1;
        const daysAgo = latest ? int(0, 200) : int(200, 365);
        const score = latest && dropped ? Math.max(0, level - int(3, 6)) : Math.min(10, Math.max(0, level + int(-1, 1)));
        npsDays[daysAgo]?.push(pack(id, int(0, DAY_MS - 1), score));
      }
      // Purchases: a buyer's latest is recent (3 % of buyers stopped 100+ days ago), the rest spread over the year.
      const lastPurchase = random() < 0.03 ? int(100, 300) : int(0, 60);
      for (let n = int(0, 10); n > 0; n--) purchaseDays[n === 1 ? lastPurchase : int(lastPurchase, 365)]?.push(pack(id, int(0, DAY_MS - 1), 0));
    }
  });

  const unpack = (packed: number): [number, number, number] => {
    const customer = Math.floor(packed / 2 ** 31);
    const rest = packed - customer * 2 ** 31;
    return [customer, Math.floor(rest / 16), rest % 16];
  };
  let touches = 0;
  let nps = 0;
  let purchases = 0;
  // Oldest day first: rowids grow with time, as in production.
  for (let ago = 365; ago >= 0; ago--) {
    const dayStart = (today - ago) * DAY_MS;
    loader.batch((write) => {
      for (const packed of touchDays[ago] ?? []) {
        const [customer, ms, kind] = unpack(packed);
        const at = Math.min(dayStart + ms, now);
        write.touch(customer, TOUCH_KINDS[kind] ?? "other", at, `U${String(customer % 50).padStart(8, "0")}`);
        touches++;
      }
      for (const packed of npsDays[ago] ?? []) {
        const [customer, ms, score] = unpack(packed);
        if (write.nps(customer, score, Math.min(dayStart + ms, now))) nps++;
      }
      for (const packed of purchaseDays[ago] ?? []) {
        const [customer, ms] = unpack(packed);
        purchases++;
        write.purchase(customer, Math.min(dayStart + ms, now), profile === "stress" ? int(500, 60_000) : int(500, 30_000), `bench-${purchases}`);
      }
    });
    touchDays[ago] = [];
    npsDays[ago] = [];
    purchaseDays[ago] = [];
  }
  await applyRuleSet(store, benchRulesText(), { author: "bench", source: "bench/generate.ts", now });
  loader.finish();
  await store.close();
  return { customers, touches, nps, purchases, ms: performance.now() - started };
}
