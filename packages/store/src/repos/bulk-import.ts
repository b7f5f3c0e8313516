import { type Db, writeTransaction } from "../engine/transaction";
import type { Customer } from "../tables/customers.table";

/**
 * The write side of a CSV import. An import writes in short transactions (see
 * importCsv in core) and records here what each committed one added, so that if a
 * later step fails, `undoImport` takes back exactly those rows and the user sees all
 * or nothing.
 */

/** Tables an import only inserts into: what it added is a set of ids, kept as runs. */
export type ImportTable = "touchpoints" | "nps_responses" | "purchases";

export class ImportLedger {
  private readonly runs = new Map<ImportTable, Array<[first: number, last: number]>>();
  /** Customers inserted, and customers updated with their rows before the import's first change. */
  readonly customers = { inserted: new Set<number>(), previous: new Map<number, Customer>() };

  /** Ids first..last were inserted by this import (committed). */
  addRange(table: ImportTable, first: number, last: number): void {
    if (last < first) return;
    let list = this.runs.get(table);
    if (list === undefined) {
      list = [];
      this.runs.set(table, list);
    }
    const tail = list[list.length - 1];
    if (tail !== undefined && tail[1] + 1 === first) tail[1] = last;
    else list.push([first, last]);
  }

  addIds(table: ImportTable, ids: readonly number[]): void {
    for (const id of [...ids].sort((a, b) => a - b)) this.addRange(table, id, id);
  }

  /** Merge what one committed customers batch changed (upsertCustomers). */
  addCustomers(batch: { inserted: readonly number[]; previous: readonly Customer[] }): void {
    for (const id of batch.inserted) this.customers.inserted.add(id);
    for (const row of batch.previous) {
      if (!this.customers.inserted.has(row.id) && !this.customers.previous.has(row.id)) this.customers.previous.set(row.id, row);
    }
  }

  idRuns(table: ImportTable): ReadonlyArray<readonly [number, number]> {
    return this.runs.get(table) ?? [];
  }
}

/** Ids per DELETE when taking an import back: each transaction stays short, like the import's. */
const UNDO_IDS = 10_000;

/**
 * Take back everything an import committed: its inserted rows are deleted (in short
 * transactions, children before customers), customers it updated get their old
 * values back. Rows an import inserted are its own, so nothing else is touched.
 */
export async function undoImport(db: Db, ledger: ImportLedger): Promise<void> {
  for (const table of ["touchpoints", "nps_responses", "purchases"] as const) {
    for (const [first, last] of ledger.idRuns(table)) {
      for (let from = first; from <= last; from += UNDO_IDS) {
        const to = Math.min(last, from + UNDO_IDS - 1);
        await writeTransaction(db, (trx) => trx.deleteFrom(table).where("id", ">=", from).where("id", "<=", to).execute());
      }
    }
  }
  const previous = [...ledger.customers.previous.values()];
  for (let start = 0; start < previous.length; start += 1000) {
    await writeTransaction(db, async (trx) => {
      for (const { id, external_id: _externalId, created_at: _createdAt, ...row } of previous.slice(start, start + 1000)) {
        await trx.updateTable("customers").set(row).where("id", "=", id).execute();
      }
    });
  }
  const inserted = [...ledger.customers.inserted];
  for (let start = 0; start < inserted.length; start += 1000) {
    const ids = inserted.slice(start, start + 1000);
    await writeTransaction(db, (trx) => trx.deleteFrom("customers").where("id", "in", ids).execute());
  }
}

/** One touch of an import, as it will be stored (customerId is the customer's row id). */
export interface ImportedTouch {
  customerId: number;
  occurredAt: number;
  kind: string;
  note: string | null;
  loggedBy: string | null;
  /** The CRM's id of the touch: when given, it alone decides whether the touch is stored already. */
  externalId: string | null;
}

export interface TouchWriterOptions {
  loggedAt: number;
  /** What each committed write added (not used in a dry run). */
  ledger: ImportLedger;
  /** Roll every write back instead of committing it (its counts are still returned). */
  dryRun?: boolean;
}

export interface TouchBatchResult {
  inserted: number;
  /** Rows skipped as duplicates of an imported touch already stored or earlier in the batch. */
  unchanged: number;
}

/**
 * The touches import's hot path, one implementation per engine. Each `write` is one
 * short transaction. A row with an external id is a duplicate when a touch with that
 * external id is stored or came earlier in the batch. A row without one is
 * deduplicated on its exact stored content: it is a duplicate when an imported touch
 * (source 'import', no external id) of the same customer at the same instant with the
 * same kind, note and logged_by is stored, or came earlier in the batch. No hash, so
 * nothing can collide: two different touches in the same millisecond are both kept.
 * What a write commits is recorded in the ledger.
 */
export interface BulkTouchWriter {
  /** How many writes the caller may run at once (the writer keeps two that share customers apart). */
  readonly parallel: number;
  write(rows: readonly ImportedTouch[]): Promise<TouchBatchResult>;
  /** Hand the connection back as it was and make every write durable (call it before undoImport, too). */
  close(): Promise<void>;
}

/** The exact-content key of a touch, for the duplicates inside one batch. */
export function touchContentKey(row: ImportedTouch): string {
  return JSON.stringify([row.customerId, row.occurredAt, row.kind, row.note, row.loggedBy]);
}

/** Whether two rows of `rows[from, to)` share customer and instant (only then may two be the same touch). */
export function repeatsInstant(rows: readonly ImportedTouch[], from: number, to: number): boolean {
  if (to - from <= 128) {
    // A few thousand number comparisons beat building a key string per row.
    for (let r = from + 1; r < to; r++) {
      const row = rows[r] as ImportedTouch;
      for (let q = from; q < r; q++) {
        const earlier = rows[q] as ImportedTouch;
        if (earlier.occurredAt === row.occurredAt && earlier.customerId === row.customerId) return true;
      }
    }
    return false;
  }
  const seen = new Set<string>();
  for (let r = from; r < to; r++) {
    const row = rows[r] as ImportedTouch;
    const key = `${row.customerId}:${row.occurredAt}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

/** The content of the touches an import wrote (by the ledger's id runs): which of its rows were new. */
export async function touchesWrittenBy(db: Db, ledger: ImportLedger): Promise<ImportedTouch[]> {
  const runs = ledger.idRuns("touchpoints");
  if (runs.length === 0) return [];
  const rows = await db
    .selectFrom("touchpoints")
    .select(["customer_id", "occurred_at", "kind", "note", "logged_by", "external_id"])
    .where((eb) => eb.or(runs.map(([first, last]) => eb.and([eb("id", ">=", first), eb("id", "<=", last)]))))
    .execute();
  return rows.map((row) => ({
    customerId: row.customer_id,
    occurredAt: row.occurred_at,
    kind: row.kind,
    note: row.note,
    loggedBy: row.logged_by,
    externalId: row.external_id,
  }));
}
