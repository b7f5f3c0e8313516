import { z } from "zod";
import type { Facts, FactValue } from "./facts/values";

/**
 * The health score, defined in the rule file (`health`), explainable by construction:
 * a weighted mean of components, each a fact turned into 0–100 by bands. Per segment
 * (a profile for "enterprise", …) with a default profile for everyone else.
 *
 *   score = Σ weight × band score ÷ Σ weight, over the components that have a score,
 *   rounded to a whole number 0–100; grade A/B/C/D/F by the grade floors.
 *
 * A component whose fact is null (no NPS answer yet) or that no band matches is left
 * out and the other weights share its part ("ifNull": "skip", the default), or scores
 * a fixed number ("ifNull": 50). A customer with no component scored has no score.
 */

export const GRADES = ["A", "B", "C", "D", "F"] as const;
export type Grade = (typeof GRADES)[number];
/** Lowest score of each grade; below D is F. */
export const DEFAULT_GRADE_FLOORS = { A: 80, B: 60, C: 40, D: 20 } as const;

const scalar = z.union([z.string().max(200), z.number(), z.boolean()]);
const score = z.number().min(0, "must be ≥ 0").max(100, "must be ≤ 100");

export const bandSchema = z
  .object({
    /** Numeric facts: the band holds from min to max, both inclusive (either may be left out). */
    min: z.number().optional(),
    max: z.number().optional(),
    /** String and true/false facts: the band holds for this value or one of these values. */
    is: z.union([scalar, z.array(scalar).min(1).max(100)]).optional(),
    score,
  })
  .strict();

export const componentSchema = z
  .object({
    name: z.string().min(1).max(60, "at most 60 characters").optional(),
    fact: z.string(),
    weight: z.number().positive("must be > 0").max(1000, "must be ≤ 1000"),
    bands: z.array(bandSchema).min(1, "needs at least one band").max(20, "at most 20 bands"),
    ifNull: z.union([z.literal("skip"), score]).default("skip"),
  })
  .strict();

export const profileSchema = z
  .object({ components: z.array(componentSchema).min(1, "needs at least one component").max(20, "at most 20 components") })
  .strict();

export const SEGMENT_KEY = /^[a-z0-9][a-z0-9 ._-]{0,99}$/;

export const healthSchema = z
  .object({
    description: z.string().max(2000).optional(),
    grades: z.object({ A: score, B: score, C: score, D: score }).strict().optional(),
    default: profileSchema,
    segments: z
      .record(z.string().regex(SEGMENT_KEY, "segment names are stored in lower case: letters, digits, space, '.', '_' or '-'"), profileSchema)
      .optional(),
  })
  .strict();

export type HealthConfig = z.output<typeof healthSchema>;
export type HealthBand = z.output<typeof bandSchema>;
export interface HealthComponent {
  name: string;
  fact: string;
  weight: number;
  bands: HealthBand[];
  ifNull: "skip" | number;
}

export interface HealthModel {
  readonly default: readonly HealthComponent[];
  readonly segments: ReadonlyMap<string, readonly HealthComponent[]>;
  readonly grades: { A: number; B: number; C: number; D: number };
  /** Every fact a component of some profile reads. */
  readonly facts: readonly string[];
}

const models = new WeakMap<HealthConfig, HealthModel>();

/** The model of a validated health block (memoised per block). */
export function healthModel(config: HealthConfig): HealthModel {
  let model = models.get(config);
  if (model !== undefined) return model;
  const profile = (p: HealthConfig["default"]): HealthComponent[] =>
    p.components.map((c) => ({ name: c.name ?? c.fact, fact: c.fact, weight: c.weight, bands: c.bands, ifNull: c.ifNull }));
  const segments = new Map(Object.entries(config.segments ?? {}).map(([segment, p]) => [segment, profile(p)]));
  const all = [profile(config.default), ...segments.values()];
  model = {
    default: profile(config.default),
    segments,
    grades: config.grades ?? DEFAULT_GRADE_FLOORS,
    facts: [...new Set(all.flatMap((components) => components.map((c) => c.fact)))],
  };
  models.set(config, model);
  return model;
}

export const profileOf = (model: HealthModel, segment: string | null): readonly HealthComponent[] =>
  (segment === null ? undefined : model.segments.get(segment)) ?? model.default;

export function bandHolds(band: HealthBand, value: FactValue): boolean {
  if (band.is !== undefined) return Array.isArray(band.is) ? band.is.includes(value as never) : band.is === value;
  if (band.min === undefined && band.max === undefined) return true;
  if (typeof value !== "number") return false;
  return (band.min === undefined || value >= band.min) && (band.max === undefined || value <= band.max);
}

/** A component's 0–100 score for a fact value; null when it is left out. */
export function componentScore(component: HealthComponent, value: FactValue): number | null {
  if (value === null || value === undefined) return component.ifNull === "skip" ? null : component.ifNull;
  for (const band of component.bands) if (bandHolds(band, value)) return band.score;
  return component.ifNull === "skip" ? null : component.ifNull;
}

export function gradeOf(model: HealthModel, value: number): Grade {
  const { A, B, C, D } = model.grades;
  return value >= A ? "A" : value >= B ? "B" : value >= C ? "C" : value >= D ? "D" : "F";
}

export interface ComponentReading {
  name: string;
  fact: string;
  value: FactValue;
  /** The band's score, 0–100; null when left out. */
  score: number | null;
  weight: number;
  /** Points of the total score this component gives: weight × score ÷ Σ weight of the scored components. */
  points: number;
}

export interface HealthReading {
  score: number | null;
  grade: Grade | null;
  components: ComponentReading[];
}

/** The score of one customer from their facts, with its breakdown. */
export function readHealth(model: HealthModel, facts: Facts, segment: string | null): HealthReading {
  const components = profileOf(model, segment);
  let weights = 0;
  let total = 0;
  const scores: Array<number | null> = [];
  for (const component of components) {
    const s = componentScore(component, facts[component.fact] ?? null);
    scores.push(s);
    if (s === null) continue;
    weights += component.weight;
    total += component.weight * s;
  }
  const readings = components.map((c, i) => {
    const s = scores[i] ?? null;
    return {
      name: c.name,
      fact: c.fact,
      value: facts[c.fact] ?? null,
      score: s,
      weight: c.weight,
      points: s === null || weights === 0 ? 0 : (c.weight * s) / weights,
    };
  });
  if (weights === 0) return { score: null, grade: null, components: readings };
  const value = Math.round(total / weights);
  return { score: value, grade: gradeOf(model, value), components: readings };
}

/** Only the number, for the sweep's hot path. */
export function healthScoreOf(model: HealthModel, facts: Facts, segment: string | null): number | null {
  let weights = 0;
  let total = 0;
  for (const component of profileOf(model, segment)) {
    const s = componentScore(component, facts[component.fact] ?? null);
    if (s === null) continue;
    weights += component.weight;
    total += component.weight * s;
  }
  return weights === 0 ? null : Math.round(total / weights);
}

export interface HealthMove {
  name: string;
  fact: string;
  before: FactValue;
  after: FactValue;
  /** Points of the score the component gave then and now, and the change. */
  pointsBefore: number;
  pointsAfter: number;
  change: number;
}

/**
 * Why the score moved between two readings: the components whose points changed,
 * largest change first. Points change when the component's band changed, and also when
 * another component was left out or came back (the weights are shared again).
 */
export function whyItMoved(then: HealthReading, now: HealthReading): HealthMove[] {
  const before = new Map(then.components.map((c) => [c.name, c]));
  const moves: HealthMove[] = [];
  for (const c of now.components) {
    const old = before.get(c.name);
    const pointsBefore = old?.points ?? 0;
    const change = c.points - pointsBefore;
    if (Math.abs(change) < 0.05) continue;
    moves.push({ name: c.name, fact: c.fact, before: old?.value ?? null, after: c.value, pointsBefore, pointsAfter: c.points, change });
  }
  return moves.sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
}

const one = (x: number) => (Math.round(x * 10) / 10).toString();
const signedPoints = (x: number) => `${x >= 0 ? "+" : "−"}${one(Math.abs(x))}`;

/** "touch recency 20/100 × 40 %, NPS 70/100 × 30 %" */
export function describeBreakdown(reading: HealthReading): string {
  const weights = reading.components.filter((c) => c.score !== null).reduce((sum, c) => sum + c.weight, 0);
  return reading.components
    .map((c) =>
      c.score === null
        ? `${c.name} left out (${c.value === null ? "no value" : "no band"})`
        : `${c.name} ${c.score} × ${Math.round((100 * c.weight) / weights)} %`,
    )
    .join(", ");
}

/** "touch recency 3 → 41 days: 40 → 8 points (−32)" */
export function describeMoves(moves: readonly HealthMove[], limit = 3): string {
  const shown = moves.slice(0, limit).map((m) => `${m.name} ${m.before ?? "—"} → ${m.after ?? "—"} (${signedPoints(m.change)} points)`);
  if (moves.length > limit) shown.push(`${moves.length - limit} more`);
  return shown.join(", ");
}
