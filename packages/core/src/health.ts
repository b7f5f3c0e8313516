import {
  buildFactProgram,
  type Calendar,
  describeBreakdown,
  describeMoves,
  GRADES,
  type Grade,
  HEALTH_CHANGE_DAYS,
  type HealthMove,
  type HealthModel,
  type HealthReading,
  healthModel,
  readHealth,
  type RuleFile,
  whyItMoved,
} from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { type CustomerFacts, factsOfCustomers } from "./facts/customer-facts";

/** The health score of one customer, with its breakdown, then and now. */
export interface CustomerHealth {
  customerId: number;
  externalId: string;
  name: string;
  segment: string | null;
  now: HealthReading;
  /** HEALTH_CHANGE_DAYS calendar days before (the end of that day); null when the relationship had not started then. */
  before: HealthReading | null;
  /** now − before, when both have a score. */
  change: number | null;
  /** Why it moved: the components whose points changed, largest first. */
  moves: HealthMove[];
}

/** The health facts and what their components read, now and 30 days back. */
export function healthProgram(model: HealthModel) {
  return buildFactProgram(["healthScore", "healthGrade", "healthChange30Days"], { health: model });
}

function reading(model: HealthModel, row: CustomerFacts): CustomerHealth {
  const segment = row.customer.segment;
  const now = readHealth(model, row.facts, segment);
  const pastFacts = row.past(HEALTH_CHANGE_DAYS);
  const before = pastFacts === undefined ? null : readHealth(model, pastFacts, segment);
  const change = now.score !== null && before !== null && before.score !== null ? now.score - before.score : null;
  const { id, externalId, name } = row.customer;
  return { customerId: id, externalId, name, segment, now, before, change, moves: before === null ? [] : whyItMoved(before, now) };
}

/**
 * The health score of some customers (or all active ones) under a rule file's health
 * block, with the breakdown and why it moved; undefined when the file has no block.
 */
export async function customerHealth(
  store: Store,
  ruleFile: RuleFile,
  at: { now: number; calendar: Calendar },
  customerIds?: readonly number[],
): Promise<CustomerHealth[] | undefined> {
  if (ruleFile.health === undefined) return undefined;
  const model = healthModel(ruleFile.health);
  const rows = await factsOfCustomers(store, healthProgram(model), at, customerIds);
  return rows.map((row) => reading(model, row));
}

export interface HealthSummary {
  /** Active customers at the instant, scored or not. */
  customers: number;
  scored: number;
  average: number | null;
  grades: Record<Grade, number>;
  /** Customers whose score fell by at least DECLINE_POINTS in 30 days, largest fall first (at most `limit`). */
  declined: CustomerHealth[];
  declinedCount: number;
}

/** A fall this large in 30 days is listed in the report. */
export const DECLINE_POINTS = 20;

/** The book's health at an instant: grade distribution, average, and who declined most (the report's section). */
export function summariseHealth(all: readonly CustomerHealth[], limit = 10): HealthSummary {
  const grades = Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
  let sum = 0;
  let scored = 0;
  for (const h of all) {
    if (h.now.score === null || h.now.grade === null) continue;
    scored++;
    sum += h.now.score;
    grades[h.now.grade]++;
  }
  const declined = all
    .filter((h) => h.change !== null && h.change <= -DECLINE_POINTS)
    .sort((a, b) => (a.change as number) - (b.change as number) || a.customerId - b.customerId);
  return {
    customers: all.length,
    scored,
    average: scored === 0 ? null : Math.round((10 * sum) / scored) / 10,
    grades,
    declined: declined.slice(0, limit),
    declinedCount: declined.length,
  };
}

const signed = (x: number) => (x > 0 ? `+${x}` : x < 0 ? `−${-x}` : "±0");

/**
 * The lines a customer summary shows: "Health 45/100 (C): touch recency 60 × 40 %, …"
 * and "30 days ago 100 (−55): buying 6 → 0 (−30 points), …".
 */
export function healthLines(health: CustomerHealth): string[] {
  const { now, before } = health;
  if (now.score === null) return ["Health: no score (no component has a value yet)"];
  const lines = [`Health ${now.score}/100 (${now.grade}): ${describeBreakdown(now)}`];
  if (before === null || before.score === null) lines.push(`${HEALTH_CHANGE_DAYS} days ago: no score`);
  else if (health.moves.length === 0) lines.push(`${HEALTH_CHANGE_DAYS} days ago ${before.score} (${signed(now.score - before.score)}): no component moved`);
  else lines.push(`${HEALTH_CHANGE_DAYS} days ago ${before.score} (${signed(now.score - before.score)}): ${describeMoves(health.moves, 4)}`);
  return lines;
}
