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

  /**
   * Ids first..last were inserted by this import: committed, or in a transaction about to
   * commit (taking back ids that never were deletes nothing; the sequence never hands them out again).
   */
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

  /** Whether this import inserted `id`: the newest runs first, as a batch's customers share touches with the batches just before it. */
  has(table: ImportTable, id: number): boolean {
    const list = this.runs.get(table) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const [first, last] = list[i] as [number, number];
      if (id >= first && id <= last) return true;
    }
    return false;
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
  /**
   * Without an external id: this row is the nth (1-based; absent = 1) of its exact
   * content in its file or request (see TouchOccurrences).
   */
  occurrence?: number;
}

export interface TouchWriterOptions {
  loggedAt: number;
  /** What each committed write added (not used in a dry run). */
  ledger: ImportLedger;
  /** Roll every write back instead of committing it (its counts are still returned). */
  dryRun?: boolean;
  /**
   * SQLite: leave the connection's settings alone (foreign keys on, its page cache). For
   * small writes next to other work (the HTTP API): the import's settings pay off only
   * over many rows, and switching them per request would drop the page cache each time.
   */
  keepSettings?: boolean;
  /**
   * Every write is part of one file, numbered as one: a row's occurrence counts its
   * identical rows in earlier writes too (the CSV import). A writer may then take its
   * own earlier touches as those earlier rows, never as stored copies from before.
   */
  oneFile?: boolean;
}

export interface TouchBatchResult {
  inserted: number;
  /** Rows skipped as already stored. */
  unchanged: number;
  /** Per row of the batch, in order: written (true) or already present (false). */
  fresh: boolean[];
}

/**
 * The touches import's hot path, one implementation per engine. Each `write` is one
 * short transaction. A row with an external id is a duplicate when a touch with that
 * external id is stored or came earlier in the batch. A row without one is the nth
 * occurrence of its exact content (customer, instant, kind, note, logged_by) in its
 * file: it is a duplicate when at least n imported touches (source 'import', no
 * external id) with that content are stored. So two identical rows in one file are two
 * touches, and importing the file again finds both. No hash, so nothing can collide.
 * What a write commits is recorded in the ledger.
 */
export interface BulkTouchWriter {
  /** How many writes the caller may run at once (the writer keeps two that share customers apart). */
  readonly parallel: number;
  /**
   * Write one batch in one transaction; `within` runs in that transaction after the
   * rows are written (given the transaction and the highest touch id before them).
   */
  write(rows: readonly ImportedTouch[], within?: (trx: Db, afterTouchId: number) => Promise<void>): Promise<TouchBatchResult>;
  /** Hand the connection back as it was and make every write durable (call it before undoImport, too). */
  close(): Promise<void>;
}

/** The exact-content key of a touch (without its occurrence). */
export function touchContentKey(row: ImportedTouch): string {
  return JSON.stringify([row.customerId, row.occurredAt, row.kind, row.note, row.loggedBy]);
}

const sameTouch = (a: ImportedTouch, b: ImportedTouch): boolean =>
  a.customerId === b.customerId && a.occurredAt === b.occurredAt && a.kind === b.kind && a.note === b.note && a.loggedBy === b.loggedBy;

/**
 * Numbers each row without an external id by the occurrences of its exact content so
 * far (ImportedTouch.occurrence). Identical rows share customer and instant, so the
 * common case is one probe of an open-addressing table keyed on a number; only rows
 * whose customer and instant repeat are compared field by field. Memory grows with the
 * distinct rows it has seen: the CSV import starts it afresh for each customer-id range
 * it writes (identical rows always fall into the same range).
 *
 * Keys in a Float64Array, not a Map: the key (an instant times 1024) is no small integer, so a Map
 * boxed each one as a heap number, hashed it in a builtin and regrew per range; the
 * table is kept across `clear` at the size the ranges need.
 */
export class TouchOccurrences {
  private keys = new Float64Array(INITIAL_SLOTS);
  /** The first row of each slot's key; a slot is taken when it holds one. */
  private firsts: Array<ImportedTouch | undefined> = new Array(INITIAL_SLOTS).fill(undefined);
  private size = 0;
  private readonly repeats = new Map<number, Array<{ row: ImportedTouch; count: number }>>();

  number(row: ImportedTouch): void {
    if (row.externalId !== null) return;
    // Exact as a double: instants < 2^43 ms (year 2248) times 1024. Different customers may share a key; sameTouch decides.
    const key = row.occurredAt * 1024 + (row.customerId & 1023);
    const mask = this.keys.length - 1;
    let slot = slotOf(row.occurredAt, row.customerId & 1023) & mask;
    for (let first = this.firsts[slot]; first !== undefined; first = this.firsts[slot]) {
      if (this.keys[slot] === key) {
        this.repeat(key, first, row);
        return;
      }
      slot = (slot + 1) & mask;
    }
    this.keys[slot] = key;
    this.firsts[slot] = row;
    row.occurrence = 1;
    if (++this.size * 2 > this.keys.length) this.grow();
  }

  private repeat(key: number, first: ImportedTouch, row: ImportedTouch): void {
    let list = this.repeats.get(key);
    if (list === undefined) {
      list = [{ row: first, count: 1 }];
      this.repeats.set(key, list);
    }
    for (const entry of list) {
      if (sameTouch(entry.row, row)) {
        row.occurrence = ++entry.count;
        return;
      }
    }
    list.push({ row, count: 1 });
    row.occurrence = 1;
  }

  /** Twice the slots, the current entries placed again. */
  private grow(): void {
    const { keys, firsts } = this;
    const slots = keys.length * 2;
    this.keys = new Float64Array(slots);
    this.firsts = new Array(slots).fill(undefined);
    const mask = slots - 1;
    for (let i = 0; i < keys.length; i++) {
      const first = firsts[i];
      if (first === undefined) continue;
      let slot = slotOf(first.occurredAt, first.customerId & 1023) & mask;
      while (this.firsts[slot] !== undefined) slot = (slot + 1) & mask;
      this.keys[slot] = keys[i] as number;
      this.firsts[slot] = first;
    }
  }

  clear(): void {
    this.size = 0;
    // Empties every slot, and lets the range's rows go.
    this.firsts.fill(undefined);
    this.repeats.clear();
  }
}

const INITIAL_SLOTS = 1024;

/** A slot for a key's parts (equal keys, equal slots), mixed so that instants a whole second apart spread. */
function slotOf(occurredAt: number, customerLow: number): number {
  const low = occurredAt >>> 0;
  const high = (occurredAt / 4294967296) | 0;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(customerLow, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
}
