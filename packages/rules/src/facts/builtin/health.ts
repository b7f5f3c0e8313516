import { gradeOf, healthScoreOf } from "../../health";
import { defineFact, type FactDefinition } from "../definition";

// Facts of the rule file's health block. The group phrase (score, grade, breakdown and
// why it moved) is built by explain.ts from the health model and the facts 30 days before.

export const HEALTH_CHANGE_DAYS = 30;

export const healthScore = defineFact({
  name: "healthScore",
  type: "number",
  nullable: true,
  unit: "score",
  description:
    "The health score 0–100 of the rule file's `health` block for the customer's segment: Σ weight × band score ÷ Σ weight over the components with a score; null when none has one.",
  example: "72",
  requires: "health",
  uses: (health) => health?.facts ?? [],
  compute: (_, { health, facts, customer }) => (health === undefined ? null : healthScoreOf(health, facts, customer.segment)),
  explain: { group: "health", label: "score", reads: ["healthGrade", "healthChange30Days"], describe: (f) => `Health ${f.healthScore ?? "—"}` },
});

export const healthGrade = defineFact({
  name: "healthGrade",
  type: "string",
  nullable: true,
  description: 'The grade of healthScore: "A" (≥ 80), "B" (≥ 60), "C" (≥ 40), "D" (≥ 20) or "F", or the floors the health block sets; null without a score.',
  example: '"B"',
  requires: "health",
  uses: ["healthScore"],
  compute: (_, { health, facts }) => (health === undefined || typeof facts.healthScore !== "number" ? null : gradeOf(health, facts.healthScore)),
  explain: { group: "health", label: "grade", reads: ["healthChange30Days"], describe: (f) => `Health grade ${f.healthGrade ?? "—"}` },
});

export const healthChange30Days = defineFact({
  name: "healthChange30Days",
  type: "number",
  nullable: true,
  unit: "points",
  description: `healthScore now − healthScore at the end of the day ${HEALTH_CHANGE_DAYS} calendar days ago (negative is a decline); null when either has no score or the relationship had not started then.`,
  example: "-18",
  requires: "health",
  uses: ["healthScore", { fact: "healthScore", daysAgo: HEALTH_CHANGE_DAYS }],
  compute: (_, { facts, past }) => {
    const before = past(HEALTH_CHANGE_DAYS)?.healthScore;
    return typeof facts.healthScore === "number" && typeof before === "number" ? facts.healthScore - before : null;
  },
  explain: { group: "health", label: "30-day change", reads: ["healthGrade"], describe: (f) => `Health change ${f.healthChange30Days ?? "—"}` },
});

export const HEALTH_FACTS: readonly FactDefinition[] = [healthScore, healthGrade, healthChange30Days];
