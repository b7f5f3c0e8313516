import type { Store } from "@keepwarm/store";
import { DAY_MS, TOUCH_KINDS } from "@keepwarm/store";

/** mulberry32: a small seeded PRNG, so the demo is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent", "Hooli", "Pied Piper", "Vandelay", "Gringotts", "Monarch", "Oscorp", "Aperture", "Black Mesa", "Dunder", "Sterling", "Bluth", "Prestige", "Massive", "Nakatomi", "Virtucon", "Zorg", "Weyland", "Ollivander", "Krusty", "Duff", "Lacuna", "Nordwind", "Café Lumière", "Søren & Co", "Kōbō", "Mañana"];
const SECOND = ["Corp", "Industries", "Labs", "Systems", "Logistics", "Foods", "Health", "Media", "Partners", "Analytics", "Outfitters", "Studios", "Retail", "Holdings", "Bakery"];
export const DEMO_REPS = [
  { id: "U0DEMOANA", name: "Ana" },
  { id: "U0DEMOBEN", name: "Ben" },
  { id: "U0DEMOCHLOE", name: "Chloé" },
  { id: "U0DEMODEV", name: "Dev" },
  { id: "U0DEMOEMI", name: "Emi" },
  { id: "U0DEMOFARID", name: "Farid" },
];
const SEGMENTS = ["enterprise", "mid-market", "smb", "consumer"] as const;
const STAGES = ["onboarding", "adoption", "expansion", "renewal"] as const;

export interface DemoOptions {
  now: number;
  customers?: number;
  seed?: number;
}

/**
 * A realistic book of business: customers across segments and lifecycle stages with
 * touch, NPS and purchase histories. Some are deliberately quiet, some had an NPS
 * drop, some buy often outside the loyalty program, and most are fine.
 */
export function generateDemoData(store: Store, options: DemoOptions): { customers: number; touches: number; nps: number; purchases: number } {
  const random = seededRandom(options.seed ?? 42);
  const count = options.customers ?? 300;
  const now = options.now;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const daysAgo = (days: number) => now - days * DAY_MS - between(0, 8 * 3_600_000);
  const insertCustomer = store.sqlite.prepare(
    `INSERT INTO customers (external_id, name, segment, lifecycle_stage, owner_slack_id, tier, since_at, renewal_at, loyalty_member, churned_at, attributes, created_at, updated_at)
     VALUES (@externalId, @name, @segment, @stage, @owner, @tier, @since, @renewal, @loyalty, @churned, @attributes, @created, @created)`,
  );
  const insertTouch = store.sqlite.prepare(
    "INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES (?, ?, ?, ?, ?, ?, 'import')",
  );
  const insertNps = store.sqlite.prepare("INSERT OR IGNORE INTO nps_responses (customer_id, score, responded_at, comment) VALUES (?, ?, ?, ?)");
  const insertPurchase = store.sqlite.prepare("INSERT INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, ?, ?)");
  const totals = { customers: 0, touches: 0, nps: 0, purchases: 0 };
  const usedNames = new Set<string>();
  store.sqlite.transaction(() => {
    for (let i = 1; i <= count; i++) {
      let name = `${pick(FIRST)} ${pick(SECOND)}`;
      while (usedNames.has(name)) name = `${pick(FIRST)} ${pick(SECOND)} ${between(2, 99)}`;
      usedNames.add(name);
      const segment = pick(SEGMENTS);
      const sinceDays = between(20, 900);
      const owner = random() < 0.94 ? pick(DEMO_REPS).id : null;
      const churned = random() < 0.05 ? daysAgo(between(1, 120)) : null;
      const loyalty = segment === "consumer" ? random() < 0.5 : random() < 0.2;
      const id = Number(
        insertCustomer.run({
          externalId: `C-${String(i).padStart(4, "0")}`,
          name,
          segment,
          stage: sinceDays < 60 ? "onboarding" : pick(STAGES.slice(1)),
          owner,
          tier: segment === "enterprise" ? pick(["gold", "platinum"]) : pick(["bronze", "silver", "gold"]),
          since: daysAgo(sinceDays),
          renewal: segment === "consumer" ? null : now + between(-10, 365) * DAY_MS,
          loyalty: loyalty ? 1 : 0,
          churned,
          attributes: JSON.stringify({ region: pick(["emea", "amer", "apac"]), seats: segment === "consumer" ? 1 : between(5, 2000) }),
          created: now - sinceDays * DAY_MS,
        }).lastInsertRowid,
      );
      totals.customers++;
      // Touch cadence: most are looked after, about a quarter drift quiet, a few never touched.
      const profile = random();
      const lastTouch = profile < 0.05 ? null : profile < 0.3 ? between(segment === "enterprise" ? 14 : 30, 90) : between(0, segment === "enterprise" ? 12 : 25);
      if (lastTouch !== null) {
        const touches = between(1, 12);
        for (let t = 0; t < touches; t++) {
          const age = t === 0 ? lastTouch : Math.min(sinceDays, lastTouch + between(3, 300));
          const rep = owner ?? pick(DEMO_REPS).id;
          insertTouch.run(id, pick(TOUCH_KINDS), daysAgo(age), now, rep, t === 0 ? pick(["check-in", "quarterly review", "renewal chat", "support follow-up", null]) : null);
          totals.touches++;
        }
      }
      // NPS: a survey every few months; about one in ten recently dropped.
      const responses = between(0, 3);
      const drop = random() < 0.12 && responses >= 2;
      let score = between(6, 10);
      for (let r = responses - 1; r >= 0; r--) {
        const age = r * 95 + between(2, 25);
        const isLatest = r === 0;
        const value = isLatest && drop ? Math.max(0, score - between(3, 6)) : Math.min(10, Math.max(0, score + between(-1, 1)));
        insertNps.run(id, value, daysAgo(age), isLatest && drop ? pick(["Support has been slow", "Too expensive for what we get", "Missing features we need"]) : null);
        score = value;
        totals.nps++;
      }
      // Purchases: consumers and SMBs buy; some buy very often.
      const frequent = (segment === "consumer" || segment === "smb") && random() < 0.35;
      const purchases = frequent ? between(5, 11) : between(0, 4);
      for (let p = 0; p < purchases; p++) {
        const at = daysAgo(between(0, 85));
        const cents = between(1500, 40000);
        insertPurchase.run(id, at, cents, `demo-${id}-${p}`);
        totals.purchases++;
      }
    }
    store.sqlite.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', ?)").run(new Date(now).toISOString());
  })();
  return totals;
}
