import { type MatchedLeaf, matchedLeaves } from "./compile";
import type { Facts } from "./facts";
import { OPERATORS } from "./operators";
import type { ConditionValue, LeafCondition, Rule } from "./rule-file";

const NPS_FACTS = new Set(["npsLatest", "npsPrevious", "npsChange", "npsCategory"]);
const DAY_FACTS = new Set(["daysSinceLastTouch", "daysSinceNps", "daysSinceLastPurchase", "daysUntilRenewal", "daysAsCustomer"]);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
const money = (n: number): string => n.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 2 });

function showValue(value: ConditionValue): string {
  if (Array.isArray(value)) return value.join(", ");
  if (value !== null && typeof value === "object") return `{${value.fact}}`;
  return String(value);
}

/** "≥ 30 days", "is enterprise", "one of gold, platinum". */
function threshold(leaf: LeafCondition, negated: boolean): string {
  const spec = OPERATORS[leaf.operator];
  const unit = DAY_FACTS.has(leaf.fact) && typeof leaf.value === "number" ? " days" : "";
  return `${negated ? "not " : ""}${spec.phrase} ${showValue(leaf.value)}${unit}`;
}

function describeFact(fact: string, facts: Facts): string {
  const v = facts[fact];
  switch (fact) {
    case "daysSinceLastTouch":
      return facts.neverTouched === true
        ? `Never touched (customer for ${plural(Number(v), "day")})`
        : `Last touch${facts.lastTouchKind ? ` (${facts.lastTouchKind})` : ""} ${plural(Number(v), "day")} ago`;
    case "neverTouched":
      return v === true ? "Never touched" : "Touched before";
    case "touchesLast30Days":
      return `${plural(Number(v), "touch").replace("touchs", "touches")} in the last 30 days`;
    case "daysSinceNps":
      return v === null ? "No NPS response" : `NPS response ${plural(Number(v), "day")} ago`;
    case "loyaltyMember":
      return v === true ? "Loyalty member" : "Not in the loyalty program";
    case "purchasesLast90Days":
      return `${plural(Number(v), "purchase")} in 90 days`;
    case "spendLast90Days":
      return `Spent ${money(Number(v))} in 90 days`;
    case "daysSinceLastPurchase":
      return v === null ? "No purchase yet" : `Last purchase ${plural(Number(v), "day")} ago`;
    case "daysUntilRenewal":
      if (v === null) return "No renewal date";
      return Number(v) >= 0 ? `Renewal in ${plural(Number(v), "day")}` : `Renewal ${plural(-Number(v), "day")} overdue`;
    case "daysAsCustomer":
      return `Customer for ${plural(Number(v), "day")}`;
    case "lastTouchKind":
      return v === null ? "Never touched" : `Last touch was a ${String(v)}`;
    case "segment":
      return `Segment ${v ?? "(none)"}`;
    case "lifecycleStage":
      return `Stage ${v ?? "(none)"}`;
    case "tier":
      return `Tier ${v ?? "(none)"}`;
  }
  if (fact.startsWith("attributes.")) return `${fact.slice("attributes.".length)} ${v ?? "(none)"}`;
  return `${fact} ${String(v)}`;
}

function describeNps(leaves: MatchedLeaf[], facts: Facts): string {
  const latest = facts.npsLatest;
  const previous = facts.npsPrevious;
  const head = latest === null ? "No NPS response" : previous === null ? `NPS ${latest}` : `NPS ${previous} → ${latest}`;
  const rules = leaves.map(({ leaf, negated }) => {
    if (leaf.fact === "npsChange" && typeof leaf.value === "number" && leaf.value < 0 && !negated) {
      return `drop of ${-leaf.value}+`;
    }
    const label = leaf.fact === "npsChange" ? "change" : leaf.fact === "npsPrevious" ? "was" : leaf.fact === "npsCategory" ? "now" : "now";
    return `${label} ${threshold(leaf, negated)}`;
  });
  return `${head} (rule: ${rules.join(", ")})`;
}

/**
 * Why a rule matched, in words a rep understands, built only from the conditions
 * that actually held: "Last touch 47 days ago (rule: ≥ 30 days); Segment enterprise".
 */
export function explain(rule: Rule, facts: Facts): string {
  const leaves = matchedLeaves(rule.conditions, facts);
  // Measurements first ("Last touch 47 days ago"), then the qualifiers ("Segment enterprise").
  const measured: string[] = [];
  const qualifiers: string[] = [];
  const npsLeaves = leaves.filter(({ leaf }) => NPS_FACTS.has(leaf.fact));
  if (npsLeaves.length > 0) measured.push(describeNps(npsLeaves, facts));
  const byFact = new Map<string, MatchedLeaf[]>();
  for (const matched of leaves) {
    if (NPS_FACTS.has(matched.leaf.fact)) continue;
    byFact.set(matched.leaf.fact, [...(byFact.get(matched.leaf.fact) ?? []), matched]);
  }
  for (const [fact, group] of byFact) {
    const text = describeFact(fact, facts);
    if (CATEGORICAL.has(fact) || fact.startsWith("attributes.")) {
      qualifiers.push(text);
    } else {
      // Two conditions on one fact (a range) share one phrase: "(rule: ≥ 30 days, < 60 days)".
      measured.push(`${text} (rule: ${group.map(({ leaf, negated }) => threshold(leaf, negated)).join(", ")})`);
    }
  }
  return [...measured, ...qualifiers].join("; ");
}

const CATEGORICAL = new Set(["segment", "lifecycleStage", "tier", "lastTouchKind", "loyaltyMember", "neverTouched"]);
