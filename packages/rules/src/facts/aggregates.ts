/**
 * What a fact reads from the customer's history: one aggregate of one history table,
 * as of the instant the facts are computed for. The store turns each aggregate into
 * SQL (one column of the fact scan, per engine); the backtest replays the same
 * aggregate day by day over the history it loaded (core's facts/replay.ts). A fact
 * names its aggregates; nothing else needs to know them.
 *
 * Windows are calendar days in KEEPWARM_TZ counted back from the instant: `[0, 29]`
 * is today and the 29 days before (30 calendar days), `[90, 179]` the 90 days before
 * those 90. A day window never reaches past the instant itself.
 */
export type HistoryTable = "touches" | "nps" | "purchases";
export type DayWindow = readonly [from: number, to: number];

export interface Aggregate {
  of: HistoryTable;
  /**
   * - `lastAt`: time of the latest event (null without one);
   * - `latest`: the value of the `nth` latest event — a touch's kind, an NPS response's score;
   * - `count`: events in the `days` window;
   * - `sum`: the total value of the events in the `days` window — purchase amounts in cents.
   */
  op: "lastAt" | "latest" | "count" | "sum";
  /** Touches only: only touches of these kinds. */
  kinds?: readonly string[];
  /** count and sum: the calendar-day window. */
  days?: DayWindow;
  /** latest: 1 is the latest event, 2 the one before it. */
  nth?: number;
}

export type AggregateValue = number | string | null;

export const lastAt = (of: HistoryTable, kinds?: readonly string[]): Aggregate => (kinds === undefined ? { of, op: "lastAt" } : { of, op: "lastAt", kinds });
export const latest = (of: HistoryTable, nth = 1): Aggregate => ({ of, op: "latest", nth });
export const countIn = (of: HistoryTable, days: DayWindow): Aggregate => ({ of, op: "count", days });
export const sumIn = (of: HistoryTable, days: DayWindow): Aggregate => ({ of, op: "sum", days });

/** A canonical name: two facts reading the same aggregate share one scan column. */
export function aggregateKey(aggregate: Aggregate): string {
  const kinds = aggregate.kinds === undefined ? "" : `[${[...aggregate.kinds].sort().join(",")}]`;
  const days = aggregate.days === undefined ? "" : `(${aggregate.days[0]}..${aggregate.days[1]})`;
  const nth = aggregate.op === "latest" ? `#${aggregate.nth ?? 1}` : "";
  return `${aggregate.of}.${aggregate.op}${kinds}${days}${nth}`;
}

/** Words for docs: "latest touch time (meeting, visit)", "count of purchases, days 0–89". */
export function describeAggregate(aggregate: Aggregate): string {
  const table = { touches: "touches", nps: "NPS responses", purchases: "purchases" }[aggregate.of];
  const one = { touches: "touch", nps: "NPS response", purchases: "purchase" }[aggregate.of];
  const kinds = aggregate.kinds === undefined ? "" : ` (${aggregate.kinds.join(", ")})`;
  const days = aggregate.days === undefined ? "" : `, days ${aggregate.days[0]}–${aggregate.days[1]}`;
  switch (aggregate.op) {
    case "lastAt":
      return `time of the latest ${one}${kinds}`;
    case "latest":
      return `${aggregate.of === "touches" ? "kind" : aggregate.of === "nps" ? "score" : "amount"} of the ${aggregate.nth === 2 ? "second latest" : "latest"} ${one}${kinds}`;
    case "count":
      return `count of ${table}${kinds}${days}`;
    case "sum":
      return `sum of ${table}${kinds}${days}`;
  }
}
