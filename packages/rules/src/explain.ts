import { type MatchedLeaf, matchedLeaves } from "./compile";
import { HEALTH_CHANGE_DAYS } from "./facts/builtin/health";
import { FACTS } from "./facts/catalog";
import type { ExplainContext, Facts } from "./facts/definition";
import { describeBreakdown, describeMoves, readHealth, whyItMoved } from "./health";
import { OPERATORS } from "./operators";
import type { ConditionValue, LeafCondition, Rule } from "./rule-file";

function showValue(value: ConditionValue): string {
  if (Array.isArray(value)) return value.join(", ");
  if (value !== null && typeof value === "object") return `{${value.fact}}`;
  return String(value);
}

/** "≥ 30 days", "is enterprise", "one of gold, platinum": the unit comes from the fact's definition. */
function threshold(leaf: LeafCondition, negated: boolean): string {
  const spec = OPERATORS[leaf.operator];
  const unit = FACTS.get(leaf.fact)?.unit;
  const suffix = typeof leaf.value !== "number" ? "" : unit === "days" ? " days" : unit === "percent" ? "%" : "";
  return `${negated ? "not " : ""}${spec.phrase} ${showValue(leaf.value)}${suffix}`;
}

const labelOf = (fact: string): string => FACTS.get(fact)?.explain.label ?? fact;

function describeNps(leaves: MatchedLeaf[], facts: Facts): string {
  const latest = facts.npsLatest ?? null;
  const previous = facts.npsPrevious ?? null;
  const head = latest === null ? "No NPS response" : previous === null ? `NPS ${latest}` : `NPS ${previous} → ${latest}`;
  const rules = leaves.map(({ leaf, negated }) => {
    if (leaf.fact === "npsChange" && typeof leaf.value === "number" && leaf.value < 0 && !negated) return `drop of ${-leaf.value}+`;
    return `${labelOf(leaf.fact)} ${threshold(leaf, negated)}`;
  });
  return `${head} (rule: ${rules.join(", ")})`;
}

/**
 * "Health 38 (D) (rule: score ≤ 40): touch recency 20 × 40 %, NPS 50 × 30 %, buying 60 × 30 %;
 * 30 days ago 71: touch recency 5 → 41 (−32 points), …": the score, its breakdown and why it moved.
 */
function describeHealth(leaves: MatchedLeaf[], facts: Facts, context: ExplainContext): string {
  const score = facts.healthScore ?? null;
  const grade = facts.healthGrade ?? null;
  const rules = leaves.map(({ leaf, negated }) => `${labelOf(leaf.fact)} ${threshold(leaf, negated)}`);
  const parts = [`Health ${score ?? "—"}${grade === null ? "" : ` (${grade})`} (rule: ${rules.join(", ")})`];
  const model = context.health;
  if (model !== undefined && score !== null) {
    const segment = context.segment ?? null;
    const now = readHealth(model, facts, segment);
    parts[0] = `${parts[0]}: ${describeBreakdown(now)}`;
    const past = context.past?.(HEALTH_CHANGE_DAYS);
    if (past !== undefined) {
      const then = readHealth(model, past, segment);
      if (then.score !== null) {
        const moves = whyItMoved(then, now);
        parts.push(`${HEALTH_CHANGE_DAYS} days ago ${then.score}${moves.length === 0 ? "" : `: ${describeMoves(moves)}`}`);
      }
    }
  }
  return parts.join("; ");
}

/**
 * Why a rule matched, in words a rep understands, built only from the conditions
 * that actually held and phrased by each fact's definition: "Last touch 47 days ago
 * (rule: ≥ 30 days); Segment enterprise". Groups (health, NPS) come first, then the
 * other measurements, then the qualifiers.
 */
export function explain(rule: Rule, facts: Facts, context: ExplainContext = {}): string {
  const leaves = matchedLeaves(rule.conditions, facts);
  const measured: string[] = [];
  const qualifiers: string[] = [];
  const groupOf = (fact: string) => FACTS.get(fact)?.explain.group;
  const healthLeaves = leaves.filter(({ leaf }) => groupOf(leaf.fact) === "health");
  if (healthLeaves.length > 0) measured.push(describeHealth(healthLeaves, facts, context));
  const npsLeaves = leaves.filter(({ leaf }) => groupOf(leaf.fact) === "nps");
  if (npsLeaves.length > 0) measured.push(describeNps(npsLeaves, facts));
  const byFact = new Map<string, MatchedLeaf[]>();
  for (const matched of leaves) {
    if (groupOf(matched.leaf.fact) !== undefined) continue;
    byFact.set(matched.leaf.fact, [...(byFact.get(matched.leaf.fact) ?? []), matched]);
  }
  for (const [fact, group] of byFact) {
    const definition = FACTS.get(fact);
    if (definition === undefined) {
      // attributes.<name>: a qualifier, "region emea".
      qualifiers.push(`${fact.startsWith("attributes.") ? fact.slice("attributes.".length) : fact} ${facts[fact] ?? "(none)"}`);
      continue;
    }
    const text = definition.explain.describe(facts, context);
    if (definition.explain.qualifier === true) qualifiers.push(text);
    // Two conditions on one fact (a range) share one phrase: "(rule: ≥ 30 days, < 60 days)".
    else measured.push(`${text} (rule: ${group.map(({ leaf, negated }) => threshold(leaf, negated)).join(", ")})`);
  }
  return [...measured, ...qualifiers].join("; ");
}
