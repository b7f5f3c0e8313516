import { seededRandom } from "../demo-data";

/**
 * ROC AUC of a score that predicts an event by being LOW (a health score predicting
 * churn): the probability that a random observation with the event has a lower score
 * than a random one without, ties counting one half. 1 = the score separates them
 * perfectly, 0.5 = no better than chance, below 0.5 = backwards.
 *
 * Observations come in clusters (one customer scored on many days), which are not
 * independent: the interval is a percentile bootstrap that resamples whole customers
 * (seeded, so the same data always gives the same interval).
 */

/** Observations of one predictor, grouped by customer: per customer, counts per (score, event). */
export class ClusteredScores {
  /** Distinct scores seen, and for each customer its entries [scoreIndex, event (0/1), count]. */
  readonly #scoreIndex = new Map<number, number>();
  readonly #clusters: number[][] = [];
  #current: Map<number, number> | undefined;

  /** Start the observations of a new customer. */
  startCluster(): void {
    this.#flush();
    this.#current = new Map();
  }

  add(score: number, event: boolean): void {
    let index = this.#scoreIndex.get(score);
    if (index === undefined) {
      index = this.#scoreIndex.size;
      this.#scoreIndex.set(score, index);
    }
    const key = index * 2 + (event ? 1 : 0);
    this.#current ??= new Map();
    this.#current.set(key, (this.#current.get(key) ?? 0) + 1);
  }

  #flush(): void {
    if (this.#current === undefined || this.#current.size === 0) return;
    const entries: number[] = [];
    for (const [key, count] of this.#current) entries.push(key >> 1, key & 1, count);
    this.#clusters.push(entries);
    this.#current = undefined;
  }

  /** Scores in ascending order, and each cluster's entries with score indexes in that order. */
  #finish(): { clusters: number[][]; values: number } {
    this.#flush();
    const scores = [...this.#scoreIndex.keys()];
    const order = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
    const rank = new Array<number>(scores.length);
    order.forEach((original, position) => {
      rank[original] = position;
    });
    const clusters = this.#clusters.map((entries) => entries.map((v, i) => (i % 3 === 0 ? (rank[v] as number) : v)));
    return { clusters, values: scores.length };
  }

  summary(options: { resamples?: number; seed?: number } = {}): AucSummary {
    const { clusters, values } = this.#finish();
    const totals = histogram(clusters, values, undefined);
    const value = aucOf(totals.events, totals.others, values);
    const summary: AucSummary = { auc: value, observations: totals.n, events: totals.nEvents, clusters: clusters.length, interval: null };
    if (value === null) return summary;
    const resamples = options.resamples ?? 200;
    const random = seededRandom(options.seed ?? 1);
    const aucs: number[] = [];
    const draw = new Int32Array(clusters.length);
    for (let r = 0; r < resamples; r++) {
      for (let i = 0; i < draw.length; i++) draw[i] = Math.floor(random() * clusters.length);
      const h = histogram(clusters, values, draw);
      const a = aucOf(h.events, h.others, values);
      if (a !== null) aucs.push(a);
    }
    aucs.sort((a, b) => a - b);
    if (aucs.length > 0) summary.interval = [quantile(aucs, 0.025), quantile(aucs, 0.975)];
    return summary;
  }
}

export interface AucSummary {
  /** null when there is no observation with the event, or none without. */
  auc: number | null;
  /** 95 % percentile interval from resampling whole customers. */
  interval: [number, number] | null;
  observations: number;
  events: number;
  clusters: number;
}

function histogram(clusters: readonly number[][], values: number, draw: Int32Array | undefined) {
  const events = new Float64Array(values);
  const others = new Float64Array(values);
  let n = 0;
  let nEvents = 0;
  const count = draw === undefined ? clusters.length : draw.length;
  for (let c = 0; c < count; c++) {
    const entries = clusters[draw === undefined ? c : (draw[c] as number)] as number[];
    for (let i = 0; i < entries.length; i += 3) {
      const value = entries[i] as number;
      const k = entries[i + 2] as number;
      n += k;
      if (entries[i + 1] === 1) {
        events[value] = (events[value] as number) + k;
        nEvents += k;
      } else others[value] = (others[value] as number) + k;
    }
  }
  return { events, others, n, nEvents };
}

/** AUC from per-score counts (scores in ascending order): P(event score < other score) + ½ P(tie). */
export function aucOf(events: ArrayLike<number>, others: ArrayLike<number>, values = events.length): number | null {
  let nEvents = 0;
  let nOthers = 0;
  for (let i = 0; i < values; i++) {
    nEvents += events[i] as number;
    nOthers += others[i] as number;
  }
  if (nEvents === 0 || nOthers === 0) return null;
  let othersAbove = nOthers;
  let sum = 0;
  for (let i = 0; i < values; i++) {
    const o = others[i] as number;
    othersAbove -= o;
    sum += (events[i] as number) * (othersAbove + o / 2);
  }
  return sum / (nEvents * nOthers);
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

const two = (x: number) => x.toFixed(2);

/** "0.74 (95 % CI 0.70–0.78)": the AUC and its interval, as the CLI and the report print it. */
export function aucText(a: AucSummary): string {
  if (a.auc === null) return "— (needs snapshots that churned and snapshots that did not)";
  return `${two(a.auc)}${a.interval === null ? "" : ` (95 % CI ${two(a.interval[0])}–${two(a.interval[1])})`}`;
}

/** What the AUC says, in words: decided by the interval, not the point. */
export function aucVerdict(a: AucSummary): string {
  if (a.auc === null || a.interval === null) return "not enough data to tell";
  if (a.interval[0] > 0.5) return "low scores do go with churn: the score predicts it better than chance";
  if (a.interval[1] < 0.5) return "backwards: low scores go with staying; review the bands";
  return "no better than chance yet (the interval holds 0.5)";
}
