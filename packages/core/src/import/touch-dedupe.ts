import type { Store } from "@keepwarm/store";
import type { TouchValues } from "./touch-fast-path";

/**
 * Imported touches are deduplicated on their exact stored content: a row is a
 * duplicate when an imported touch (source 'import') of the same customer at the same
 * instant with the same kind, note and logged_by is already stored, or came earlier in
 * the file. There is no hash, so nothing can collide: two different touches in the same
 * millisecond are both kept.
 *
 * The check is a lookup in touchpoints_customer_time (customer_id, occurred_at), 64
 * rows per query, right before the 64-row INSERT that writes the same index pages. It
 * is safe without a UNIQUE index because the whole import runs in one BEGIN IMMEDIATE
 * transaction: no other writer can add a touch between the lookup and the insert.
 * (A UNIQUE index on a 53-bit content hash, tried first, meant one more random B-tree
 * insert per row: 1–2 µs at a million rows, more than this lookup costs.)
 */
const BATCH = 64;
const PARAMS_PER_ROW = 6;

type Outcome = "inserted" | "unchanged";
type StoredTouch = [customerId: number, occurredAt: number, kind: string, note: string | null, loggedBy: string | null];

const exactKey = (customerId: unknown, occurredAt: unknown, kind: unknown, note: unknown, loggedBy: unknown): string =>
  JSON.stringify([customerId, occurredAt, kind, note, loggedBy]);

export class TouchInserter {
  private readonly inserts = new Map<number, { run(params: unknown[]): { changes: number } }>();
  private readonly lookups = new Map<number, { all(params: unknown[]): unknown[] }>();
  private readonly params: unknown[] = [];
  private readonly keys: unknown[] = [];
  private pending = 0;

  constructor(
    private readonly store: Store,
    private readonly now: number,
    private readonly tally: (outcome: Outcome) => void,
  ) {}

  add(customerId: number, row: TouchValues): void {
    this.params.push(customerId, row.kind, row.occurredAt, this.now, row.loggedBy, row.note);
    this.keys.push(customerId, row.occurredAt);
    if (++this.pending === BATCH) this.flush();
  }

  flush(): void {
    const rows = this.pending;
    if (rows === 0) return;
    const params = this.params;
    const stored = this.lookup(rows).all(this.keys) as StoredTouch[];
    if (stored.length === 0 && !this.repeatsInstant(rows)) {
      this.write(rows, params);
      for (let r = 0; r < rows; r++) this.tally("inserted");
    } else {
      this.insertNew(params, rows, stored);
    }
    params.length = 0;
    this.keys.length = 0;
    this.pending = 0;
  }

  /** Whether two pending rows share customer and instant (then they may be the same touch). */
  private repeatsInstant(rows: number): boolean {
    const seen = new Set<string>();
    for (let r = 0; r < rows; r++) {
      const key = `${this.keys[2 * r]}:${this.keys[2 * r + 1]}`;
      if (seen.has(key)) return true;
      seen.add(key);
    }
    return false;
  }

  /** The slow path: compare full content, stored rows first, then the batch's own earlier rows. */
  private insertNew(params: unknown[], rows: number, stored: StoredTouch[]): void {
    const seen = new Set(stored.map(([customerId, occurredAt, kind, note, loggedBy]) => exactKey(customerId, occurredAt, kind, note, loggedBy)));
    const fresh: unknown[] = [];
    for (let r = 0; r < rows; r++) {
      const at = r * PARAMS_PER_ROW;
      // params: customer_id, kind, occurred_at, logged_at, logged_by, note
      const key = exactKey(params[at], params[at + 2], params[at + 1], params[at + 5], params[at + 4]);
      if (seen.has(key)) {
        this.tally("unchanged");
        continue;
      }
      seen.add(key);
      for (let i = 0; i < PARAMS_PER_ROW; i++) fresh.push(params[at + i]);
      this.tally("inserted");
    }
    if (fresh.length > 0) this.write(fresh.length / PARAMS_PER_ROW, fresh);
  }

  /**
   * OR IGNORE only to spare SQLite a statement journal: a plain multi-row INSERT inside
   * a transaction must be able to undo itself halfway, so it first copies every page
   * it touches (that more than doubled the cost of an insert). Nothing here can be
   * ignored — touchpoints has no unique key besides its id, values are validated —
   * and a short count would be a bug, so it throws (and the import rolls back).
   */
  private write(rows: number, params: unknown[]): void {
    const { changes } = this.insert(rows).run(params);
    if (changes !== rows) throw new Error(`touch import: SQLite ignored ${rows - changes} of ${rows} rows`);
  }

  private insert(rows: number) {
    let statement = this.inserts.get(rows);
    if (statement === undefined) {
      statement = this.store.sqlite.prepare(
        `INSERT OR IGNORE INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, 'import')").join(", ")}`,
      );
      this.inserts.set(rows, statement);
    }
    return statement;
  }

  private lookup(rows: number) {
    let statement = this.lookups.get(rows);
    if (statement === undefined) {
      statement = this.store.sqlite
        .prepare(
          `SELECT customer_id, occurred_at, kind, note, logged_by FROM touchpoints
           WHERE (customer_id, occurred_at) IN (VALUES ${Array.from({ length: rows }, () => "(?, ?)").join(", ")}) AND source = 'import'`,
        )
        .raw();
      this.lookups.set(rows, statement);
    }
    return statement;
  }
}
