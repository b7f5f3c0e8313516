import { defaultRulesText, PRIORITIES } from "@keepwarm/rules";
import type { Db, NewCustomer, NewNpsResponse, NewPurchase, NewTouchpoint, Store } from "@keepwarm/store";
import {
  DAY_MS,
  demoCustomers,
  insertCustomers,
  insertDemoNudge,
  insertNpsResponses,
  insertPurchases,
  insertTouch,
  insertTouches,
  installDemoRuleSet,
  setDemoMarker,
  TOUCH_KINDS,
  writeTransaction,
} from "@keepwarm/store";
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
export async function generateDemoData(store: Store, options: DemoOptions): Promise<{ customers: number; touches: number; nps: number; purchases: number }> {
  const random = seededRandom(options.seed ?? 42);
  const count = options.customers ?? 300;
  const now = options.now;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const daysAgo = (days: number) => now - days * DAY_MS - between(0, 8 * 3_600_000);
  // Drawn first, written after: rows name their customer by external id until it has a row id.
  type Of<T> = Omit<T, "customer_id"> & { customer: string };
  const customers: NewCustomer[] = [];
  const touches: Array<Of<NewTouchpoint>> = [];
  const nps: Array<Of<NewNpsResponse>> = [];
  const purchases: Array<Of<NewPurchase>> = [];
  const usedNames = new Set<string>();
  for (let i = 1; i <= count; i++) {
    let name = `${pick(FIRST)} ${pick(SECOND)}`;
    while (usedNames.has(name)) name = `${pick(FIRST)} ${pick(SECOND)} ${between(2, 99)}`;
    usedNames.add(name);
    const segment = pick(SEGMENTS);
    const sinceDays = between(20, 900);
    const owner = random() < 0.94 ? pick(DEMO_REPS).id : null;
    const churned = random() < 0.05 ? daysAgo(between(1, 120)) : null;
    const loyalty = segment === "consumer" ? random() < 0.5 : random() < 0.2;
    const externalId = `C-${String(i).padStart(4, "0")}`;
    const stage = sinceDays < 60 ? "onboarding" : pick(STAGES.slice(1));
    const tier = segment === "enterprise" ? pick(["gold", "platinum"]) : pick(["bronze", "silver", "gold"]);
    const since = daysAgo(sinceDays);
    const renewal = segment === "consumer" ? null : now + between(-10, 365) * DAY_MS;
    const attributes = JSON.stringify({ region: pick(["emea", "amer", "apac"]), seats: segment === "consumer" ? 1 : between(5, 2000) });
    const created = now - sinceDays * DAY_MS;
    customers.push({
      external_id: externalId,
      name,
      segment,
      lifecycle_stage: stage,
      owner_slack_id: owner,
      tier,
      since_at: since,
      renewal_at: renewal,
      loyalty_member: loyalty ? 1 : 0,
      churned_at: churned,
      attributes,
      created_at: created,
      updated_at: created,
    });
    // Touch cadence: most are looked after, about a quarter drift quiet, a few never touched.
    const profile = random();
    const lastTouch = profile < 0.05 ? null : profile < 0.3 ? between(segment === "enterprise" ? 14 : 30, 90) : between(0, segment === "enterprise" ? 12 : 25);
    if (lastTouch !== null) {
      const times = between(1, 12);
      for (let t = 0; t < times; t++) {
        const age = t === 0 ? lastTouch : Math.min(sinceDays, lastTouch + between(3, 300));
        const rep = owner ?? pick(DEMO_REPS).id;
        const kind = pick(TOUCH_KINDS);
        const at = daysAgo(age);
        const note = t === 0 ? pick(["check-in", "quarterly review", "renewal chat", "support follow-up", null]) : null;
        touches.push({ customer: externalId, kind, occurred_at: at, logged_at: now, logged_by: rep, note, source: "import" });
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
      const at = daysAgo(age);
      const comment = isLatest && drop ? pick(["Support has been slow", "Too expensive for what we get", "Missing features we need"]) : null;
      nps.push({ customer: externalId, score: value, responded_at: at, comment });
      score = value;
    }
    // Purchases: consumers and SMBs buy; some buy very often.
    const frequent = (segment === "consumer" || segment === "smb") && random() < 0.35;
    const bought = frequent ? between(5, 11) : between(0, 4);
    for (let p = 0; p < bought; p++) {
      const at = daysAgo(between(0, 85));
      const cents = between(1500, 40000);
      purchases.push({ customer: externalId, occurred_at: at, amount_cents: cents, dedupe_key: `demo-${externalId}-${p}` });
    }
  }
  return writeTransaction(store.db, async (trx) => {
    const ids = await insertCustomers(trx, customers);
    const idOf = new Map(customers.map((c, i) => [c.external_id, ids[i] as number]));
    const withId = <T extends { customer: string }>({ customer, ...row }: T) => ({ ...row, customer_id: idOf.get(customer) as number });
    await insertTouches(trx, touches.map(withId));
    await insertNpsResponses(trx, nps.map(withId));
    await insertPurchases(trx, purchases.map(withId));
    const history = await generateDemoHistory(trx, now, seededRandom((options.seed ?? 42) + 1));
    await setDemoMarker(trx, new Date(now).toISOString());
    return { customers: customers.length, touches: touches.length + history.touches, nps: nps.length + history.nps, purchases: purchases.length };
  });
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
/**
 * no-contact is the demo's noisy rule: at 30 days most of its nudges come too early,
 * so reps dismiss them ("already in touch by email"), snooze them again and again, or
 * let the next routine touch close them; `keepwarm rules noise` flags it and `keepwarm
 * rules suggest no-contact` proposes a later threshold. The enterprise rule is acted on.
 */
const HISTORY_RULES = [
  { id: "no-contact", enterprise: false, perWeek: 9, cooldownDays: 14, priority: PRIORITIES.normal, noisy: true },
  { id: "no-contact-enterprise", enterprise: true, perWeek: 4, cooldownDays: 7, priority: PRIORITIES.high, escalateAfterDays: 5, noisy: false },
] as const;
const DEMO_DISMISS_REASONS = ["already in touch by email", "seasonal: quiet on purpose", "Already in touch by email", null] as const;

/**
 * Six months of history so the KPIs have something to say: past no-contact nudges
 * (20% held out, as the demo rules say) with outcomes — customers nudged by the
 * enterprise rule get a touch sooner and more often than held-out ones, while the
 * noisy no-contact rule's nudges are mostly dismissed, snoozed or answered late — and
 * monthly NPS answers that improve slowly. Installs the demo rules unless an admin already applied their own.
 */
async function generateDemoHistory(trx: Db, now: number, random: () => number): Promise<{ touches: number; nps: number }> {
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const version = await installDemoRuleSet(trx, {
    json: demoRulesText(),
    createdAt: now - HISTORY_WEEKS * 7 * DAY_MS,
    note: "20% holdout on the no-contact rules",
  });
  const customers = await demoCustomers(trx);
  const pulses: NewNpsResponse[] = [];
  const totals = { touches: 0, nps: 0 };
  for (let week = HISTORY_WEEKS; week >= 3; week--) {
    const createdAt = now - week * 7 * DAY_MS + 9 * 3_600_000;
    for (const rule of HISTORY_RULES) {
      const eligible = (c: (typeof customers)[number]) => (c.sinceAt ?? 0) < createdAt && (c.churnedAt === null || c.churnedAt > createdAt);
      const pool = customers.filter((c) => (c.segment === "enterprise") === rule.enterprise && eligible(c));
      for (let k = 0; k < rule.perWeek && pool.length > 0; k++) {
        const customer = pool.splice(Math.floor(random() * pool.length), 1)[0];
        if (customer === undefined) break;
        const heldOut = isHeldOut(rule.id, customer.externalId, 20);
        // The effect the holdout measures: a nudge of the enterprise rule makes a touch within a week much likelier;
        // one of the noisy rule is mostly answered late (the next routine touch, 8–13 days on) or not at all.
        const roll = random();
        const touchedAfter = heldOut
          ? roll < 0.3
            ? between(2, 13)
            : null
          : rule.noisy
            ? roll < 0.22
              ? between(0, 6)
              : roll < 0.42
                ? between(8, 13)
                : null
            : roll < 0.72
              ? between(0, 6)
              : null;
        const rep = customer.owner ?? DEMO_REPS[0]?.id ?? "U0DEMOANA";
        let touchId: number | null = null;
        let closedAt = createdAt + 14 * DAY_MS;
        if (touchedAfter !== null) {
          closedAt = createdAt + touchedAfter * DAY_MS + between(1, 6) * 3_600_000;
          touchId = await insertTouch(trx, {
            customer_id: customer.id,
            kind: random() < 0.6 ? "call" : "email",
            occurred_at: closedAt,
            logged_at: closedAt,
            logged_by: rep,
            note: "follow-up",
            source: "slack",
          });
          totals.touches++;
        }
        const dismissed = touchId === null && !heldOut && random() < (rule.noisy ? 0.6 : 0.15);
        const reason = dismissed && rule.noisy ? DEMO_DISMISS_REASONS[Math.floor(random() * DEMO_DISMISS_REASONS.length)] : null;
        const snoozes = heldOut ? 0 : rule.noisy ? (random() < 0.35 ? between(1, 3) : 0) : random() < 0.2 ? 1 : 0;
        const overdue = touchedAfter === null || touchedAfter >= ("escalateAfterDays" in rule ? rule.escalateAfterDays : 99);
        await insertDemoNudge(trx, {
          rule_id: rule.id,
          rule_set_version: version,
          customer_id: customer.id,
          status: touchId !== null ? "resolved" : dismissed ? "dismissed" : "expired",
          priority: rule.priority,
          explanation: "Last touch a while ago (demo history)",
          message: "has gone quiet (demo history)",
          facts: "{}",
          held_out: heldOut ? 1 : 0,
          resolve_on_touch: 1,
          cooldown_days: rule.cooldownDays,
          destination: "owner",
          last_touch_at: null,
          created_at: createdAt,
          updated_at: closedAt,
          snoozed_until: null,
          snoozed_by: snoozes > 0 ? rep : null,
          snooze_count: snoozes,
          closed_at: closedAt,
          closed_by: touchId !== null || dismissed ? rep : null,
          close_reason: touchId !== null ? "touch" : dismissed ? "dismissed" : "conditions-cleared",
          close_note: reason ?? null,
          resolved_touch_id: touchId,
          cooldown_until: closedAt + rule.cooldownDays * DAY_MS,
          delivered_at: heldOut ? null : createdAt + 60_000,
          slack_channel: heldOut ? null : "console",
          escalated_at: !heldOut && "escalateAfterDays" in rule && overdue && !dismissed ? createdAt + rule.escalateAfterDays * DAY_MS : null,
        });
      }
    }
  }
  // Monthly NPS pulses: a fifth of customers answer each month; scores drift up over the half-year.
  for (let month = 6; month >= 1; month--) {
    for (const customer of customers) {
      if (random() >= 0.2) continue;
      const at = now - month * 30 * DAY_MS - between(0, 20) * DAY_MS;
      if (at < (customer.sinceAt ?? 0) || (customer.churnedAt !== null && at > customer.churnedAt)) continue;
      const score = Math.max(0, Math.min(10, between(4, 10) + (random() < (6 - month) * 0.06 ? 2 : 0) - (random() < month * 0.05 ? 3 : 0)));
      pulses.push({ customer_id: customer.id, score, responded_at: at, comment: null });
    }
  }
  // Answers landing on an instant already answered are dropped, as an import would.
  totals.nps = (await insertNpsResponses(trx, pulses)).length;
  return totals;
}
