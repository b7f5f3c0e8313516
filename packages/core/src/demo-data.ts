import { defaultRulesText, PRIORITIES } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { DAY_MS, TOUCH_KINDS } from "@keepwarm/store";
import { isHeldOut } from "./holdout";

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

const FIRST = [
  "Acme",
  "Globex",
  "Initech",
  "Umbrella",
  "Stark",
  "Wayne",
  "Wonka",
  "Tyrell",
  "Cyberdyne",
  "Soylent",
  "Hooli",
  "Pied Piper",
  "Vandelay",
  "Gringotts",
  "Monarch",
  "Oscorp",
  "Aperture",
  "Black Mesa",
  "Dunder",
  "Sterling",
  "Bluth",
  "Prestige",
  "Massive",
  "Nakatomi",
  "Virtucon",
  "Zorg",
  "Weyland",
  "Ollivander",
  "Krusty",
  "Duff",
  "Lacuna",
  "Nordwind",
  "Café Lumière",
  "Søren & Co",
  "Kōbō",
  "Mañana",
];
const SECOND = [
  "Corp",
  "Industries",
  "Labs",
  "Systems",
  "Logistics",
  "Foods",
  "Health",
  "Media",
  "Partners",
  "Analytics",
  "Outfitters",
  "Studios",
  "Retail",
  "Holdings",
  "Bakery",
];
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
      const lastTouch =
        profile < 0.05 ? null : profile < 0.3 ? between(segment === "enterprise" ? 14 : 30, 90) : between(0, segment === "enterprise" ? 12 : 25);
      if (lastTouch !== null) {
        const touches = between(1, 12);
        for (let t = 0; t < touches; t++) {
          const age = t === 0 ? lastTouch : Math.min(sinceDays, lastTouch + between(3, 300));
          const rep = owner ?? pick(DEMO_REPS).id;
          insertTouch.run(
            id,
            pick(TOUCH_KINDS),
            daysAgo(age),
            now,
            rep,
            t === 0 ? pick(["check-in", "quarterly review", "renewal chat", "support follow-up", null]) : null,
          );
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
        insertNps.run(
          id,
          value,
          daysAgo(age),
          isLatest && drop ? pick(["Support has been slow", "Too expensive for what we get", "Missing features we need"]) : null,
        );
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
    const history = generateDemoHistory(store, now, seededRandom((options.seed ?? 42) + 1));
    totals.touches += history.touches;
    totals.nps += history.nps;
    store.sqlite.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', ?)").run(new Date(now).toISOString());
  })();
  return totals;
}

/** The demo's rules: the defaults, with a 20% holdout on the no-contact rules so `stats` can show whether nudges help. */
export function demoRulesText(): string {
  const file = JSON.parse(defaultRulesText()) as { description?: string; rules: Array<{ id: string; nudge: Record<string, unknown> }> };
  for (const rule of file.rules) {
    if (rule.id === "no-contact" || rule.id === "no-contact-enterprise") rule.nudge.holdoutPercent = 20;
    if (rule.id === "nps-drop") rule.nudge.escalateTo = "#cs-leads";
  }
  file.description = "Demo: the default rules, with a 20% holdout on the no-contact rules and NPS-drop escalations to #cs-leads.";
  return `${JSON.stringify(file, null, 2)}\n`;
}

const HISTORY_WEEKS = 26;
const HISTORY_RULES = [
  { id: "no-contact", enterprise: false, perWeek: 9, cooldownDays: 14, priority: PRIORITIES.normal },
  { id: "no-contact-enterprise", enterprise: true, perWeek: 4, cooldownDays: 7, priority: PRIORITIES.high, escalateAfterDays: 5 },
] as const;

/**
 * Six months of history so the KPIs have something to say: past no-contact nudges
 * (20% held out, as the demo rules say) with outcomes — nudged customers get a touch
 * sooner and more often than held-out ones — and monthly NPS answers that improve
 * slowly. Installs the demo rules unless an admin already applied their own.
 */
function generateDemoHistory(store: Store, now: number, random: () => number): { touches: number; nps: number } {
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const active = store.sqlite.prepare("SELECT author FROM rule_sets WHERE active = 1").pluck().get() as string | undefined;
  if (active === undefined || active === "keepwarm" || active === "demo") {
    store.sqlite.prepare("UPDATE rule_sets SET active = 0 WHERE active = 1").run();
    store.sqlite
      .prepare("INSERT INTO rule_sets (json, author, source, created_at, active, note) VALUES (?, 'demo', 'keepwarm demo', ?, 1, ?)")
      .run(demoRulesText(), now - HISTORY_WEEKS * 7 * DAY_MS, "20% holdout on the no-contact rules");
  }
  const version = store.sqlite.prepare("SELECT id FROM rule_sets WHERE active = 1").pluck().get() as number;
  const customers = store.sqlite
    .prepare("SELECT id, external_id AS externalId, segment, owner_slack_id AS owner, since_at AS sinceAt, churned_at AS churnedAt FROM customers ORDER BY id")
    .all() as Array<{ id: number; externalId: string; segment: string; owner: string | null; sinceAt: number; churnedAt: number | null }>;
  const insertTouch = store.sqlite.prepare(
    "INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES (?, ?, ?, ?, ?, ?, 'slack')",
  );
  const insertNudge = store.sqlite.prepare(`INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, facts, held_out,
      cooldown_days, destination, last_touch_at, created_at, updated_at, snoozed_until, snoozed_by, closed_at, closed_by, close_reason,
      resolved_touch_id, cooldown_until, delivered_at, slack_channel, escalated_at)
    VALUES (@ruleId, @version, @customerId, @status, @priority, @explanation, @message, '{}', @heldOut, @cooldownDays, 'owner', NULL, @createdAt, @closedAt,
      NULL, @snoozedBy, @closedAt, @closedBy, @closeReason, @touchId, @cooldownUntil, @deliveredAt, @channel, @escalatedAt)`);
  const insertNps = store.sqlite.prepare("INSERT OR IGNORE INTO nps_responses (customer_id, score, responded_at, comment) VALUES (?, ?, ?, NULL)");
  const totals = { touches: 0, nps: 0 };
  for (let week = HISTORY_WEEKS; week >= 3; week--) {
    const createdAt = now - week * 7 * DAY_MS + 9 * 3_600_000;
    for (const rule of HISTORY_RULES) {
      const eligible = (c: (typeof customers)[number]) => c.sinceAt < createdAt && (c.churnedAt === null || c.churnedAt > createdAt);
      const pool = customers.filter((c) => (c.segment === "enterprise") === rule.enterprise && eligible(c));
      for (let k = 0; k < rule.perWeek && pool.length > 0; k++) {
        const customer = pool.splice(Math.floor(random() * pool.length), 1)[0];
        if (customer === undefined) break;
        const heldOut = isHeldOut(rule.id, customer.externalId, 20);
        // The effect the holdout measures: a nudge makes a touch within two weeks much likelier.
        const roll = random();
        const touchedAfter = heldOut ? (roll < 0.3 ? between(2, 13) : null) : roll < 0.72 ? between(0, 12) : null;
        const rep = customer.owner ?? DEMO_REPS[0]?.id ?? "U0DEMOANA";
        let touchId: number | null = null;
        let closedAt = createdAt + 14 * DAY_MS;
        if (touchedAfter !== null) {
          closedAt = createdAt + touchedAfter * DAY_MS + between(1, 6) * 3_600_000;
          touchId = Number(insertTouch.run(customer.id, random() < 0.6 ? "call" : "email", closedAt, closedAt, rep, "follow-up").lastInsertRowid);
          totals.touches++;
        }
        const dismissed = touchId === null && !heldOut && random() < 0.15;
        const snoozed = !heldOut && random() < 0.2;
        const overdue = touchedAfter === null || touchedAfter >= ("escalateAfterDays" in rule ? rule.escalateAfterDays : 99);
        insertNudge.run({
          ruleId: rule.id,
          version,
          customerId: customer.id,
          status: touchId !== null ? "resolved" : dismissed ? "dismissed" : "expired",
          priority: rule.priority,
          explanation: "Last touch a while ago (demo history)",
          message: "has gone quiet (demo history)",
          heldOut: heldOut ? 1 : 0,
          cooldownDays: rule.cooldownDays,
          createdAt,
          closedAt,
          snoozedBy: snoozed ? rep : null,
          closedBy: touchId !== null || dismissed ? rep : null,
          closeReason: touchId !== null ? "touch" : dismissed ? "dismissed" : "conditions-cleared",
          touchId,
          cooldownUntil: closedAt + rule.cooldownDays * DAY_MS,
          deliveredAt: heldOut ? null : createdAt + 60_000,
          channel: heldOut ? null : "console",
          escalatedAt: !heldOut && "escalateAfterDays" in rule && overdue && !dismissed ? createdAt + rule.escalateAfterDays * DAY_MS : null,
        });
      }
    }
  }
  // Monthly NPS pulses: a fifth of customers answer each month; scores drift up over the half-year.
  for (let month = 6; month >= 1; month--) {
    for (const customer of customers) {
      if (random() >= 0.2) continue;
      const at = now - month * 30 * DAY_MS - between(0, 20) * DAY_MS;
      if (at < customer.sinceAt || (customer.churnedAt !== null && at > customer.churnedAt)) continue;
      const score = Math.max(0, Math.min(10, between(4, 10) + (random() < (6 - month) * 0.06 ? 2 : 0) - (random() < month * 0.05 ? 3 : 0)));
      totals.nps += insertNps.run(customer.id, score, at).changes;
    }
  }
  return totals;
}
