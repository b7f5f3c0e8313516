import { lastAt, latest } from "../aggregates";
import { defineFact, type FactDefinition } from "../definition";
import { days } from "./words";

export type NpsCategory = "promoter" | "passive" | "detractor";
export const npsCategory = (score: number): NpsCategory => (score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor");

const score = (value: unknown): number | null => (typeof value === "number" ? value : null);

// The NPS facts share one phrase ("NPS 9 → 5 (rule: drop of 3+, now ≤ 6)"), built by explain.ts from the group.
export const npsLatest = defineFact({
  name: "npsLatest",
  type: "number",
  nullable: true,
  unit: "score",
  description: "Score 0–10 of the latest NPS response; null without one.",
  example: "5",
  aggregates: { score: latest("nps", 1) },
  compute: (values) => score(values.score),
  explain: { group: "nps", label: "now", describe: (f) => (f.npsLatest === null ? "No NPS response" : `NPS ${f.npsLatest}`) },
});

export const npsPrevious = defineFact({
  name: "npsPrevious",
  type: "number",
  nullable: true,
  unit: "score",
  description: "Score of the response before the latest; null with fewer than two.",
  example: "9",
  aggregates: { score: latest("nps", 2) },
  compute: (values) => score(values.score),
  explain: { group: "nps", label: "was", describe: (f) => `NPS was ${f.npsPrevious ?? "—"}` },
});

export const npsChange = defineFact({
  name: "npsChange",
  type: "number",
  nullable: true,
  unit: "points",
  description: "npsLatest − npsPrevious (negative is a drop); null with fewer than two responses.",
  example: "-4",
  uses: ["npsLatest", "npsPrevious"],
  compute: (_, { facts }) => (typeof facts.npsLatest === "number" && typeof facts.npsPrevious === "number" ? facts.npsLatest - facts.npsPrevious : null),
  explain: { group: "nps", label: "change", describe: (f) => `NPS change ${f.npsChange ?? "—"}` },
});

export const npsCategoryFact = defineFact({
  name: "npsCategory",
  type: "string",
  nullable: true,
  description: '"promoter" (9–10), "passive" (7–8) or "detractor" (0–6) of the latest response; null without one.',
  example: '"detractor"',
  uses: ["npsLatest"],
  compute: (_, { facts }) => (typeof facts.npsLatest === "number" ? npsCategory(facts.npsLatest) : null),
  explain: { group: "nps", label: "now", describe: (f) => `NPS ${f.npsCategory ?? "—"}` },
});

export const daysSinceNps = defineFact({
  name: "daysSinceNps",
  type: "number",
  nullable: true,
  unit: "days",
  description: "Calendar days since the latest NPS response; null without one.",
  example: "6",
  aggregates: { at: lastAt("nps") },
  compute: ({ at }, { daysSince }) => (typeof at === "number" ? daysSince(at) : null),
  explain: { describe: (f) => (f.daysSinceNps === null ? "No NPS response" : `NPS response ${days(Number(f.daysSinceNps))} ago`) },
});

export const NPS_FACTS: readonly FactDefinition[] = [npsLatest, npsPrevious, npsChange, npsCategoryFact, daysSinceNps];
