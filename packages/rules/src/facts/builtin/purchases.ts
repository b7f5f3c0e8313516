import { countIn, lastAt, sumIn } from "../aggregates";
import { defineFact, type FactDefinition } from "../definition";
import { days, money, plural, signed } from "./words";

export const purchasesLast90Days = defineFact({
  name: "purchasesLast90Days",
  type: "number",
  nullable: false,
  unit: "purchases",
  description: "Purchases on the last 90 calendar days: today and the 89 days before.",
  example: "6",
  aggregates: { n: countIn("purchases", [0, 89]) },
  compute: ({ n }) => Number(n ?? 0),
  explain: { describe: (f) => `${plural(Number(f.purchasesLast90Days), "purchase")} in 90 days` },
});

export const purchasesPrevious90Days = defineFact({
  name: "purchasesPrevious90Days",
  type: "number",
  nullable: false,
  unit: "purchases",
  description: "Purchases on the 90 calendar days before those: 90 to 179 days ago.",
  example: "8",
  aggregates: { n: countIn("purchases", [90, 179]) },
  compute: ({ n }) => Number(n ?? 0),
  explain: { describe: (f) => `${plural(Number(f.purchasesPrevious90Days), "purchase")} in the 90 days before the last 90` },
});

export const spendLast90Days = defineFact({
  name: "spendLast90Days",
  type: "number",
  nullable: false,
  unit: "money",
  description: "Sum of purchase amounts on the last 90 calendar days.",
  example: "1250.5",
  aggregates: { cents: sumIn("purchases", [0, 89]) },
  compute: ({ cents }) => Number(cents ?? 0) / 100,
  explain: { describe: (f) => `Spent ${money(Number(f.spendLast90Days))} in 90 days` },
});

export const daysSinceLastPurchase = defineFact({
  name: "daysSinceLastPurchase",
  type: "number",
  nullable: true,
  unit: "days",
  description: "Calendar days since the latest purchase; null without one.",
  example: "12",
  aggregates: { at: lastAt("purchases") },
  compute: ({ at }, { daysSince }) => (typeof at === "number" ? daysSince(at) : null),
  explain: { describe: (f) => (f.daysSinceLastPurchase === null ? "No purchase yet" : `Last purchase ${days(Number(f.daysSinceLastPurchase))} ago`) },
});

/**
 * The change in the number of purchases, last 90 days against the 90 before, in percent
 * of the earlier count: −50 is half as many, −100 stopped buying, +100 twice as many.
 * A percentage and not a difference, so one threshold fits a customer buying 3 times a
 * quarter and one buying 300; null when there was no purchase in the earlier 90 days
 * (no base to compare with: a new buyer is not "infinitely" up).
 */
export const purchaseTrend = defineFact({
  name: "purchaseTrend",
  type: "number",
  nullable: true,
  unit: "percent",
  description:
    "Purchases on the last 90 days against the 90 days before, as a whole-number percent change: (last − before) ÷ before × 100, rounded; −100 = stopped buying; null when there was no purchase in the 90 days before.",
  example: "-50",
  uses: ["purchasesLast90Days", "purchasesPrevious90Days"],
  compute: (_, { facts }) => {
    const before = Number(facts.purchasesPrevious90Days);
    if (before === 0) return null;
    return Math.round(((Number(facts.purchasesLast90Days) - before) * 100) / before);
  },
  explain: {
    reads: ["purchasesLast90Days", "purchasesPrevious90Days"],
    describe: (f) =>
      f.purchaseTrend === null
        ? "No purchase in the 90 days before the last 90"
        : `Purchases ${signed(Number(f.purchaseTrend))}% (${f.purchasesPrevious90Days} → ${f.purchasesLast90Days} per 90 days)`,
  },
});

export const PURCHASE_FACTS: readonly FactDefinition[] = [purchasesLast90Days, purchasesPrevious90Days, spendLast90Days, daysSinceLastPurchase, purchaseTrend];
