import type { Calendar } from "../calendar";
import type { HealthModel } from "../health";
import type { FactType } from "../operators";
import type { Aggregate, AggregateValue } from "./aggregates";
import type { Facts, FactValue } from "./values";

export type { Facts, FactValue } from "./values";

/** What a number counts, for docs and explanations ("≥ 30 days"). */
export type FactUnit = "days" | "touches" | "purchases" | "money" | "score" | "points" | "percent";

/** The customer's own columns, as the fact scan returns them. Times in epoch milliseconds. */
export interface CustomerRecord {
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
  /** JSON object of the extra CSV columns. */
  attributes: string;
}

/**
 * One row of the fact scan: the customer, and the values of the aggregates a fact
 * program asked for, in the order of its `columns` (each column has a name; the
 * program binds its facts to columns by name once, not per row).
 */
export interface FactInput extends CustomerRecord {
  values: readonly AggregateValue[];
}

/** A fact another one is derived from: at the same instant, or `daysAgo` calendar days earlier. */
export type FactUse = string | { fact: string; daysAgo: number };

export interface FactContext {
  customer: CustomerRecord;
  /** The instant the facts are computed for. */
  now: number;
  calendar: Calendar;
  /** When the relationship started: `since`, else when the customer was added. */
  start: number;
  /** Calendar days (KEEPWARM_TZ) from `at` up to `now`; negative when `at` is later. */
  daysSince(at: number): number;
  /** The facts of this instant computed so far: every fact named in `uses` is there. */
  facts: Facts;
  /** The facts `daysAgo` days earlier, for a `uses` entry with daysAgo; undefined when the customer did not exist then. */
  past(daysAgo: number): Facts | undefined;
  /** The rule file's health model (its `health` block), for the health facts. */
  health: HealthModel | undefined;
}

/** What an explanation is built with besides the facts. */
export interface ExplainContext {
  health?: HealthModel | undefined;
  /** The facts `daysAgo` days before the match, when the program computed them. */
  past?: ((daysAgo: number) => Facts | undefined) | undefined;
  /** The customer's segment: which health profile applies. */
  segment?: string | null | undefined;
}

/** How an explanation phrases a fact the rule matched on. */
export interface FactPhrase {
  /** The measurement in words: "Last touch (call) 47 days ago". */
  describe(facts: Facts, context: ExplainContext): string;
  /** Facts the phrase reads besides this one: computed whenever this one is. */
  reads?: readonly string[];
  /** A qualifier ("Segment enterprise") comes after the measurements, without the rule's threshold. */
  qualifier?: boolean;
  /** Facts of one group are phrased together: "NPS 9 → 5 (rule: drop of 3+, now ≤ 6)". */
  group?: "nps" | "health";
  /** Inside a group: what the rule's threshold is called ("was ≥ 7", "now ≤ 6"). */
  label?: string;
}

/**
 * One fact, defined once (the model is json-rules-engine's src/fact.js: one object per
 * fact). The catalog, the JSON Schema, the docs table, validation, the property test's
 * fact space, the sweep, the backtest and the explanation all read this object.
 */
export interface FactDefinition {
  name: string;
  type: Exclude<FactType, "any">;
  nullable: boolean;
  unit?: FactUnit;
  description: string;
  example: string;
  /**
   * How it is computed from the store: named aggregates of the customer's history (the
   * store computes each as SQL, the backtest replays it day by day); `compute` gets
   * their values under the same names.
   */
  aggregates?: Readonly<Record<string, Aggregate>>;
  /** Or from other facts; a function when they depend on the rule file's health block. */
  uses?: readonly FactUse[] | ((health: HealthModel | undefined) => readonly FactUse[]);
  compute(values: Readonly<Record<string, AggregateValue>>, context: FactContext): FactValue;
  explain: FactPhrase;
  /** A fact that only exists with a `health` block in the rule file. */
  requires?: "health";
}

/** Type the aggregate values a definition's compute receives by the names it gave them. */
export function defineFact<A extends Record<string, Aggregate>>(
  definition: Omit<FactDefinition, "aggregates" | "compute"> & {
    aggregates?: A;
    compute(values: { readonly [K in keyof A]: AggregateValue }, context: FactContext): FactValue;
  },
): FactDefinition {
  return definition as FactDefinition;
}

export const usesOf = (definition: FactDefinition, health: HealthModel | undefined): readonly FactUse[] =>
  typeof definition.uses === "function" ? definition.uses(health) : (definition.uses ?? []);
