import type { Store } from "../open-store";
import { factRowChunksPostgres } from "./fact-scan.postgres";
import { factRowChunksSqlite } from "./fact-scan.sqlite";

/**
 * One customer's fact inputs at an instant, as the rules package reads them
 * (`CustomerFactRow` there has this shape). Times in epoch milliseconds.
 */
export interface FactRow {
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
  attributes: string;
  lastTouchAt: number | null;
  lastTouchKind: string | null;
  touchesLast30: number;
  npsLatest: number | null;
  npsLatestAt: number | null;
  npsPrevious: number | null;
  purchasesLast90: number;
  spendLast90Cents: number;
  lastPurchaseAt: number | null;
}

/**
 * The fact scan a chunk at a time: `next(after, limit)` returns up to `limit` rows of
 * the customers with ids above `after`, in id order. Only customers that exist at
 * `asOf` (from `since`, or from when they were added, until they churn) and only
 * history up to `asOf` count, which is what lets backtests replay past days.
 * Each chunk costs only its own customers' rows (keyset pagination by id), so a sweep
 * can write between chunks and memory stays flat at a million customers.
 */
export type FactRowChunks = (after: number, limit: number) => Promise<FactRow[]>;

/** Customers per chunk of a full scan. */
export const FACT_SCAN_CHUNK = 5_000;

/** The hot path, hand-tuned per engine: prepared statements on SQLite, one set-based statement per chunk on PostgreSQL. */
export function factRowChunks(store: Store, asOf: number): FactRowChunks {
  return store.engine === "postgres" ? factRowChunksPostgres(store, asOf) : factRowChunksSqlite(store, asOf);
}

/** Every customer's fact row at `asOf`, in id order, yielded a chunk (an array of rows) at a time. */
export async function* scanFactRows(store: Store, asOf: number, chunkSize = FACT_SCAN_CHUNK): AsyncGenerator<FactRow[]> {
  const next = factRowChunks(store, asOf);
  let after = 0;
  for (;;) {
    const rows = await next(after, chunkSize);
    if (rows.length > 0) yield rows;
    if (rows.length < chunkSize) return;
    after = (rows[rows.length - 1] as FactRow).id;
  }
}

/**
 * A row from an array in the column order both engines' statements select. Arrays,
 * not driver-built objects: building a row object property by property cost as much
 * as the SQL itself at 100k rows; a literal gets one fixed shape, which also keeps the
 * rule predicates monomorphic.
 */
export function toFactRow(r: unknown[]): FactRow {
  return {
    id: r[0] as number,
    externalId: r[1] as string,
    name: r[2] as string,
    segment: r[3] as string | null,
    lifecycleStage: r[4] as string | null,
    tier: r[5] as string | null,
    ownerSlackId: r[6] as string | null,
    loyaltyMember: r[7] as number,
    sinceAt: r[8] as number | null,
    renewalAt: r[9] as number | null,
    churnedAt: r[10] as number | null,
    createdAt: r[11] as number,
    attributes: r[12] as string,
    lastTouchAt: r[13] as number | null,
    lastTouchKind: r[14] as string | null,
    touchesLast30: r[15] as number,
    npsLatest: r[16] as number | null,
    npsLatestAt: r[17] as number | null,
    npsPrevious: r[18] as number | null,
    purchasesLast90: r[19] as number,
    spendLast90Cents: r[20] as number,
    lastPurchaseAt: r[21] as number | null,
  };
}
