import type { AggregateValue } from "@keepwarm/rules";
import type { ScanColumn } from "@keepwarm/store";

/**
 * The fact scan's aggregates, replayed in memory over one customer's history: what
 * the backtest evaluates each past day with, instead of a scan per day. Each column
 * gives exactly what the store's SQL gives for the same resolved window (proved by
 * test/backtest-one-pass.test.ts against a scan per day).
 */

/** One customer's history, each list in the fact scan's order: by time, then by id. */
export interface CustomerHistory {
  touchAt: number[];
  touchKind: string[];
  npsAt: number[];
  npsScore: number[];
  purchaseAt: number[];
  purchaseCents: number[];
}

export const emptyHistory = (): CustomerHistory => ({ touchAt: [], touchKind: [], npsAt: [], npsScore: [], purchaseAt: [], purchaseCents: [] });

/** First index in the ascending list with a value above `value`. */
export function firstAbove(list: readonly number[], value: number, from = 0): number {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in the ascending list with a value at or above `value`. */
function firstAtOrAbove(list: readonly number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events of one table (touches of some kinds), with prefix sums of their values for `sum`. */
interface Series {
  at: number[];
  values: Array<number | string>;
  prefix: number[] | undefined;
}

export class HistoryReplay {
  readonly #series = new Map<string, Series>();

  constructor(private readonly history: CustomerHistory) {}

  #seriesOf(column: ScanColumn): Series {
    const key = column.kinds === undefined ? column.of : `${column.of}[${column.kinds.join(",")}]`;
    let series = this.#series.get(key);
    if (series !== undefined) return series;
    const h = this.history;
    if (column.of === "touches") {
      if (column.kinds === undefined) series = { at: h.touchAt, values: h.touchKind, prefix: undefined };
      else {
        const kinds = new Set(column.kinds);
        const at: number[] = [];
        const values: string[] = [];
        h.touchKind.forEach((kind, i) => {
          if (!kinds.has(kind)) return;
          at.push(h.touchAt[i] as number);
          values.push(kind);
        });
        series = { at, values, prefix: undefined };
      }
    } else if (column.of === "nps") series = { at: h.npsAt, values: h.npsScore, prefix: undefined };
    else series = { at: h.purchaseAt, values: h.purchaseCents, prefix: undefined };
    this.#series.set(key, series);
    return series;
  }

  /** The column's value for this customer, as the fact scan at the column's instant returns it. */
  value(column: ScanColumn): AggregateValue {
    const series = this.#seriesOf(column);
    const end = firstAbove(series.at, column.to);
    const start = column.from === undefined ? 0 : Math.min(end, firstAtOrAbove(series.at, column.from));
    switch (column.op) {
      case "lastAt":
        return end > start ? (series.at[end - 1] as number) : null;
      case "latest": {
        const index = end - (column.nth ?? 1);
        return index >= start ? (series.values[index] as number | string) : null;
      }
      case "count":
        return end - start;
      case "sum": {
        series.prefix ??= prefixSums(series.values as number[]);
        return (series.prefix[end] as number) - (series.prefix[start] as number);
      }
    }
  }
}

function prefixSums(values: readonly number[]): number[] {
  const prefix = [0];
  for (const v of values) prefix.push((prefix[prefix.length - 1] as number) + v);
  return prefix;
}
