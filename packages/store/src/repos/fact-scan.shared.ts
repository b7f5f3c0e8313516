/** A customer's own columns, as every fact scan row carries them. Times in epoch milliseconds. */
export interface ScanCustomer {
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
}

export type ScanValue = number | string | null;

/**
 * One aggregate of a customer's history the scan computes, as a named column. The
 * caller (the rules' fact definitions, through core) decides which columns a sweep
 * needs and resolves their calendar windows into instants; the store only turns each
 * into SQL. Nothing outside the requested columns is computed: a rule set that reads
 * no NPS fact never touches nps_responses.
 */
export interface ScanColumn {
  /** Unique within a scan; FactScanRow.values follow the order of the columns. */
  name: string;
  of: "touches" | "nps" | "purchases";
  /**
   * lastAt: time of the latest event; latest: the value of the nth latest event (a
   * touch's kind, an NPS score, a purchase's cents); count: events; sum: their values.
   */
  op: "lastAt" | "latest" | "count" | "sum";
  /** Touches only: only touches of these kinds. */
  kinds?: readonly string[] | undefined;
  /** latest: 1 = the latest event. */
  nth?: number | undefined;
  /** Only events at or after this instant. */
  from?: number | undefined;
  /** Only events at or before this instant (never later than the scan's asOf). */
  to: number;
}

/** One customer of the scan and the values of the requested columns, in their order. */
export interface FactScanRow extends ScanCustomer {
  values: ScanValue[];
}

/** Each history table as the scan reads it: its time column, its value, the order of "latest". */
export const HISTORY_TABLES = {
  touches: { table: "touchpoints", time: "occurred_at", value: "kind" },
  nps: { table: "nps_responses", time: "responded_at", value: "score" },
  purchases: { table: "purchases", time: "occurred_at", value: "amount_cents" },
} as const;

/** The customer columns both engines' statements select first, in toFactScanRow's order. */
export const CUSTOMER_SELECT = [
  "id",
  "external_id",
  "name",
  "segment",
  "lifecycle_stage",
  "tier",
  "owner_slack_id",
  "loyalty_member",
  "since_at",
  "renewal_at",
  "churned_at",
  "created_at",
  "attributes",
] as const;
const CUSTOMER_COLUMNS = CUSTOMER_SELECT.length;

/**
 * The fact scan a chunk at a time: `next(after, limit)` returns the rows of the next
 * customers with ids above `after`, in id order, looking at about `limit` customers,
 * and the cursor to pass as `after` for the chunk after it (`undefined`: the scan is
 * done). Only customers that exist at `asOf` (from `since`, or from when they were
 * added, until they churn) and only history up to `asOf` count, which is what lets
 * backtests replay past days. Each chunk costs only its own customers' rows (keyset
 * pagination by id), so a sweep can write between chunks and memory stays flat at a
 * million customers. A chunk may hold fewer than `limit` rows and still not be the
 * last: only `next` says where the scan ends.
 */
export type FactRowChunks = (after: number, limit: number) => Promise<FactChunk>;

export interface FactChunk {
  rows: FactScanRow[];
  next: number | undefined;
}

/** Customers per chunk of a full scan. */
export const FACT_SCAN_CHUNK = 5_000;

export function checkScanColumns(columns: readonly ScanColumn[], asOf: number): void {
  const names = new Set<string>();
  for (const column of columns) {
    if (names.has(column.name)) throw new Error(`fact scan: column "${column.name}" is requested twice`);
    names.add(column.name);
    if (column.to > asOf) throw new Error(`fact scan: column "${column.name}" reaches past the scan's instant`);
    if (column.op === "latest" && !(Number.isInteger(column.nth ?? 1) && (column.nth ?? 1) >= 1))
      throw new Error(`fact scan: column "${column.name}" needs nth ≥ 1`);
    if (column.kinds !== undefined && column.of !== "touches") throw new Error(`fact scan: column "${column.name}": only touches have kinds`);
  }
}

/**
 * A row from the array both engines' statements return: the customer columns in this
 * order, then the requested columns. Arrays, not driver-built objects: building a row
 * object property by property cost as much as the SQL itself at 100k rows; a literal
 * gets one fixed shape, which also keeps the rule predicates monomorphic.
 */
export function toFactScanRow(r: unknown[]): FactScanRow {
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
    values: r.slice(CUSTOMER_COLUMNS) as ScanValue[],
  };
}
