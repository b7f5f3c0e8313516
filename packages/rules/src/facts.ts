import type { Calendar } from "./calendar";
import type { FactType } from "./operators";

/** One customer's aggregates, as the store's bulk scan returns them. Times in epoch ms. */
export interface CustomerFactRow {
  id: number;
  externalId: string;
  name: string;
  segment: string | null;
  lifecycleStage: string | null;
  tier: string | null;
  ownerSlackId: string | null;
  loyaltyMember: number;
  sinceAt: number | null;
  renewalAt: number | null;
  churnedAt: number | null;
  createdAt: number;
  attributes: string;
  lastTouchAt: number | null;
  lastTouchKind: string | null;
  touchesLast30: number;
  npsLatest: number | null;
  npsLatestAt: number | null;
  npsPrevious: number | null;
  purchasesLast90: number;
  spendLast90Cents: number;
  lastPurchaseAt: number | null;
}

export interface FactDefinition {
  name: string;
  type: Exclude<FactType, "any">;
  nullable: boolean;
  description: string;
  example: string;
}

/** The fact catalog: every name a rule may use (plus attributes.<name>). */
export const FACT_CATALOG: readonly FactDefinition[] = [
  {
    name: "daysSinceLastTouch",
    type: "number",
    nullable: false,
    description: "Calendar days since the last logged touch; counts from `since` (or the import date) when the customer was never touched.",
    example: "47",
  },
  { name: "neverTouched", type: "boolean", nullable: false, description: "True when no touch was ever logged for the customer.", example: "false" },
  {
    name: "lastTouchKind",
    type: "string",
    nullable: true,
    description: "Kind of the latest touch: call, email, meeting, visit, chat or other; null when never touched.",
    example: '"call"',
  },
  { name: "touchesLast30Days", type: "number", nullable: false, description: "Touches in the 30 days up to now.", example: "3" },
  { name: "npsLatest", type: "number", nullable: true, description: "Score 0–10 of the latest NPS response; null without one.", example: "5" },
  { name: "npsPrevious", type: "number", nullable: true, description: "Score of the response before the latest; null with fewer than two.", example: "9" },
  {
    name: "npsChange",
    type: "number",
    nullable: true,
    description: "npsLatest − npsPrevious (negative is a drop); null with fewer than two responses.",
    example: "-4",
  },
  {
    name: "npsCategory",
    type: "string",
    nullable: true,
    description: '"promoter" (9–10), "passive" (7–8) or "detractor" (0–6) of the latest response.',
    example: '"detractor"',
  },
  { name: "daysSinceNps", type: "number", nullable: true, description: "Calendar days since the latest NPS response.", example: "6" },
  { name: "loyaltyMember", type: "boolean", nullable: false, description: "Whether the customer is in the loyalty program.", example: "false" },
  { name: "purchasesLast90Days", type: "number", nullable: false, description: "Purchases in the 90 days up to now.", example: "6" },
  { name: "spendLast90Days", type: "number", nullable: false, description: "Sum of purchase amounts in the 90 days up to now.", example: "1250.5" },
  { name: "daysSinceLastPurchase", type: "number", nullable: true, description: "Calendar days since the latest purchase; null without one.", example: "12" },
  {
    name: "daysUntilRenewal",
    type: "number",
    nullable: true,
    description: "Calendar days until the renewal date (negative once past); null without one.",
    example: "45",
  },
  { name: "daysAsCustomer", type: "number", nullable: false, description: "Calendar days since `since` (or the import date).", example: "400" },
  { name: "segment", type: "string", nullable: true, description: "Segment / persona, as imported.", example: '"enterprise"' },
  {
    name: "lifecycleStage",
    type: "string",
    nullable: true,
    description: "Lifecycle stage, as imported (e.g. onboarding, adoption, renewal).",
    example: '"onboarding"',
  },
  { name: "tier", type: "string", nullable: true, description: "Tier, as imported.", example: '"gold"' },
];

export const FACT_NAMES = FACT_CATALOG.map((f) => f.name);
const byName = new Map(FACT_CATALOG.map((f) => [f.name, f]));
export const ATTRIBUTE_FACT = /^attributes\.[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export function factType(name: string): FactType | undefined {
  if (ATTRIBUTE_FACT.test(name)) return "any";
  return byName.get(name)?.type;
}

export type FactValue = string | number | boolean | null;
export type Facts = Record<string, FactValue>;

export const npsCategory = (score: number): "promoter" | "passive" | "detractor" => (score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor");

/**
 * Facts for one customer at `now`. `attributeNames` lists the attributes the rules
 * read, so the JSON is parsed only when a rule needs it.
 */
export function computeFacts(row: CustomerFactRow, now: number, calendar: Calendar, attributeNames: readonly string[] = []): Facts {
  const start = row.sinceAt ?? row.createdAt;
  const facts: Facts = {
    daysSinceLastTouch: calendar.daysBetween(row.lastTouchAt ?? start, now),
    neverTouched: row.lastTouchAt === null,
    lastTouchKind: row.lastTouchKind,
    touchesLast30Days: row.touchesLast30,
    npsLatest: row.npsLatest,
    npsPrevious: row.npsPrevious,
    npsChange: row.npsLatest !== null && row.npsPrevious !== null ? row.npsLatest - row.npsPrevious : null,
    npsCategory: row.npsLatest === null ? null : npsCategory(row.npsLatest),
    daysSinceNps: row.npsLatestAt === null ? null : calendar.daysBetween(row.npsLatestAt, now),
    loyaltyMember: row.loyaltyMember === 1,
    purchasesLast90Days: row.purchasesLast90,
    spendLast90Days: row.spendLast90Cents / 100,
    daysSinceLastPurchase: row.lastPurchaseAt === null ? null : calendar.daysBetween(row.lastPurchaseAt, now),
    daysUntilRenewal: row.renewalAt === null ? null : calendar.daysBetween(now, row.renewalAt),
    daysAsCustomer: calendar.daysBetween(start, now),
    segment: row.segment,
    lifecycleStage: row.lifecycleStage,
    tier: row.tier,
  };
  if (attributeNames.length > 0) {
    const attributes = parseAttributes(row.attributes);
    for (const name of attributeNames) facts[`attributes.${name}`] = Object.hasOwn(attributes, name) ? (attributes[name] ?? null) : null;
  }
  return facts;
}

export function parseAttributes(json: string): Record<string, FactValue> {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === "object" ? (value as Record<string, FactValue>) : {};
  } catch {
    return {};
  }
}
