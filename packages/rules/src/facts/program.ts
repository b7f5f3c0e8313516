import type { Calendar } from "../calendar";
import type { HealthModel } from "../health";
import { type Aggregate, type AggregateValue, aggregateKey } from "./aggregates";
import { ATTRIBUTE_FACT, FACTS, type FactCatalog } from "./catalog";
import { type FactContext, type FactDefinition, type FactInput, type Facts, type FactValue, usesOf } from "./definition";

/** One column the fact scan must return for a program: an aggregate at one of its instants. */
export interface ProgramColumn {
  /** Unique in the program: the aggregate's key and how many days back, e.g. "touches.count(0..29)@0". */
  name: string;
  aggregate: Aggregate;
  /** 0: at the instant evaluated; N: at the end of the calendar day N days before it. */
  daysAgo: number;
}

/**
 * The facts a set of rules needs and how to compute them: the closure of the facts
 * they name (with the facts those derive from and the facts their phrases read), the
 * scan columns those need, and nothing else. Built once per rule set; `evaluate` runs
 * once per customer (per replayed day in a backtest).
 */
export interface FactProgram {
  /** Facts evaluate returns, in computation order. */
  readonly facts: readonly string[];
  /** What the store's fact scan (or the backtest's replay) must provide, in the order of FactInput.values. */
  readonly columns: readonly ProgramColumn[];
  /** The earlier instants (days ago) facts are also computed for, e.g. [30] for healthChange30Days. */
  readonly pastDays: readonly number[];
  readonly health: HealthModel | undefined;
  evaluate(row: FactInput, now: number, calendar: Calendar): Facts;
  /**
   * The facts of the earlier instants the latest evaluate call computed, by days ago
   * (undefined where the customer did not exist yet). Take it before the next call:
   * a sweep asks only for the customers that matched, so the other 90 % cost nothing.
   */
  past(): PastFacts;
}

/** The instant facts `daysAgo` days back are computed for: the end of that calendar day. */
export function frameInstant(now: number, calendar: Calendar, daysAgo: number): number {
  return daysAgo === 0 ? now : calendar.startOfDay(calendar.dayNumber(now) - daysAgo + 1) - 1;
}

/**
 * The customer was a customer at an earlier instant: the relationship had started
 * (`since`, else when they were added) and they had not churned. Stricter than the
 * scan's "exists" (added or started): a customer imported long ago with a recent
 * `since` has no health 30 days before it.
 */
export const customerAt = (row: FactInput, at: number): boolean => (row.sinceAt ?? row.createdAt) <= at && (row.churnedAt === null || row.churnedAt > at);

export type PastFacts = (daysAgo: number) => Facts | undefined;
const NO_PAST: PastFacts = () => undefined;

type Step = (values: readonly AggregateValue[], context: FrameContext) => FactValue;

interface FrameContext extends FactContext {
  row: FactInput;
  attributes: Record<string, FactValue> | undefined;
}

interface Frame {
  daysAgo: number;
  names: string[];
  steps: Step[];
  context: FrameContext;
}

export interface ProgramOptions {
  health?: HealthModel | undefined;
  catalog?: FactCatalog;
}

export function buildFactProgram(names: Iterable<string>, options: ProgramOptions = {}): FactProgram {
  const catalog = options.catalog ?? FACTS;
  const health = options.health;
  const needed = new Map<number, Set<string>>();
  const visiting = new Set<string>();
  // The facts asked for, then the facts their phrases read (after, so a phrase reading a fact that derives from it is no cycle).
  const queue: string[] = [...names];
  const need = (name: string, daysAgo: number, chain: string[]) => {
    let set = needed.get(daysAgo);
    if (set === undefined) {
      set = new Set();
      needed.set(daysAgo, set);
    }
    if (set.has(name)) return;
    const key = `${name}@${daysAgo}`;
    if (visiting.has(key)) throw new Error(`facts derive from each other in a cycle: ${[...chain, name].join(" → ")}`);
    if (!ATTRIBUTE_FACT.test(name)) {
      const definition = catalog.get(name);
      if (definition === undefined) throw new Error(`unknown fact "${name}"`);
      visiting.add(key);
      for (const use of usesOf(definition, health)) {
        if (typeof use === "string") need(use, daysAgo, [...chain, name]);
        else need(use.fact, daysAgo + use.daysAgo, [...chain, name]);
      }
      visiting.delete(key);
      // What its phrase reads, so an explanation never shows a fact that was not computed.
      if (daysAgo === 0) queue.push(...(definition.explain.reads ?? []));
    }
    set.add(name);
  };
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) need(name, 0, []);
  if (!needed.has(0)) needed.set(0, new Set());

  const columns: ProgramColumn[] = [];
  const columnIndex = new Map<string, number>();
  const column = (aggregate: Aggregate, daysAgo: number): number => {
    const name = `${aggregateKey(aggregate)}@${daysAgo}`;
    let index = columnIndex.get(name);
    if (index === undefined) {
      index = columns.length;
      columns.push({ name, aggregate, daysAgo });
      columnIndex.set(name, index);
    }
    return index;
  };

  // Farthest back first: a fact may read facts of an earlier instant, never of a later one.
  const frameDays = [...needed.keys()].sort((a, b) => b - a);
  const results: Array<Facts | undefined> = frameDays.map(() => undefined);
  const frameOf = new Map(frameDays.map((daysAgo, i) => [daysAgo, i]));
  const frames: Frame[] = frameDays.map((daysAgo) => {
    const frameNames = [...(needed.get(daysAgo) as Set<string>)];
    const context: FrameContext = {
      row: undefined as unknown as FactInput,
      customer: undefined as unknown as FactInput,
      now: 0,
      calendar: undefined as unknown as Calendar,
      start: 0,
      facts: {},
      attributes: undefined,
      health,
      daysSince(at: number): number {
        return context.calendar.daysBetween(at, context.now);
      },
      past(back: number): Facts | undefined {
        const index = frameOf.get(daysAgo + back);
        if (index === undefined) throw new Error(`facts ${back} days back were not computed: name them in the fact's "uses"`);
        return results[index];
      },
    };
    const steps = frameNames.map((name) => (ATTRIBUTE_FACT.test(name) ? attributeStep(name) : factStep(catalog.get(name) as FactDefinition, daysAgo, column)));
    return { daysAgo, names: frameNames, steps, context };
  });
  const current = frames[frames.length - 1] as Frame;
  const pastDays = frameDays.filter((d) => d > 0);
  let instantsFor: { now: number; calendar: Calendar; at: number[] } | undefined;

  return {
    facts: current.names,
    columns,
    pastDays,
    health,
    evaluate(row, now, calendar) {
      if (instantsFor === undefined || instantsFor.now !== now || instantsFor.calendar !== calendar) {
        instantsFor = { now, calendar, at: frames.map((frame) => frameInstant(now, calendar, frame.daysAgo)) };
      }
      const start = row.sinceAt ?? row.createdAt;
      let facts: Facts = {};
      for (let f = 0; f < frames.length; f++) {
        const frame = frames[f] as Frame;
        const at = instantsFor.at[f] as number;
        if (frame.daysAgo > 0 && !customerAt(row, at)) {
          results[f] = undefined;
          continue;
        }
        const context = frame.context;
        facts = {};
        context.row = row;
        context.customer = row;
        context.now = at;
        context.calendar = calendar;
        context.start = start;
        context.facts = facts;
        context.attributes = undefined;
        const { steps, names } = frame;
        const values = row.values;
        for (let s = 0; s < steps.length; s++) facts[names[s] as string] = (steps[s] as Step)(values, context);
        results[f] = facts;
      }
      return facts;
    },
    past() {
      if (pastDays.length === 0) return NO_PAST;
      const frozen = results.slice();
      return (daysAgo) => {
        const index = frameOf.get(daysAgo);
        return index === undefined || index === frames.length - 1 ? undefined : frozen[index];
      };
    },
  };
}

const NO_VALUES: Readonly<Record<string, AggregateValue>> = Object.freeze({});

/** A fact's compute bound to its columns: the names it gave its aggregates are resolved once, here. */
function factStep(definition: FactDefinition, daysAgo: number, column: (aggregate: Aggregate, daysAgo: number) => number): Step {
  const entries = Object.entries(definition.aggregates ?? {});
  const compute = definition.compute;
  if (entries.length === 0) return (_, context) => compute(NO_VALUES, context);
  const keys = entries.map(([key]) => key);
  const indexes = entries.map(([, aggregate]) => column(aggregate, daysAgo));
  const args: Record<string, AggregateValue> = {};
  for (const key of keys) args[key] = null;
  if (keys.length === 1) {
    const key = keys[0] as string;
    const index = indexes[0] as number;
    return (values, context) => {
      args[key] = values[index] ?? null;
      return compute(args, context);
    };
  }
  return (values, context) => {
    for (let i = 0; i < keys.length; i++) args[keys[i] as string] = values[indexes[i] as number] ?? null;
    return compute(args, context);
  };
}

/** attributes.<name>: the customer's extra CSV column, parsed once per customer; null when absent. */
function attributeStep(name: string): Step {
  const attribute = name.slice("attributes.".length);
  return (_, context) => {
    context.attributes ??= parseAttributes(context.row.attributes);
    return Object.hasOwn(context.attributes, attribute) ? (context.attributes[attribute] ?? null) : null;
  };
}

export function parseAttributes(json: string): Record<string, FactValue> {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === "object" ? (value as Record<string, FactValue>) : {};
  } catch {
    return {};
  }
}
