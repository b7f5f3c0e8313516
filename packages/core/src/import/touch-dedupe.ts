import type { Store } from "@keepwarm/store";
import type { TouchValues } from "./touch-fast-path";

/**
 * Imported touches are deduplicated by UNIQUE (customer_id, occurred_at, dedupe_hash)
 * (migration 2026-11-25T00-00_touch-import-dedupe), where dedupe_hash is a 53-bit hash
 * of the rest of the stored content (kind, note, logged_by).
 *
 * A hash is not the content, so a conflict is never taken as "already there" on the
 * hash alone: the stored row is read back and compared. Same content: the row is a
 * duplicate. Different content (two touches of one customer in the same millisecond
 * whose hashes collide): the next hash value is tried (h + 1, h + 2, …), the way an
 * open-addressing hash table probes, so the different touch is kept and a re-import
 * finds it again along the same probe sequence.
 */
export const HASH_SPACE = 2 ** 53;

/** Two independent 32-bit hashes (FNV-1a and a multiply-xorshift) folded into a safe integer. */
export function touchContentHash(kind: string, note: string | null, loggedBy: string | null): number {
  // Three fields, one running state; a separator after each field, and null (never
  // stored as "") kept apart from any text.
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let field = 0; field < 3; field++) {
    const text = field === 0 ? kind : field === 1 ? note : loggedBy;
    if (text !== null) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
        b ^= b >>> 15;
      }
    }
    const separator = text === null ? 0x1e : 0x1f;
    a = Math.imul(a ^ separator, 0x01000193);
    b = Math.imul(b ^ separator, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (fmix32(a) >>> 11) * 0x1_0000_0000 + (fmix32(b) >>> 0);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const BATCH = 64;
const COLUMNS = "INSERT OR IGNORE INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source, dedupe_hash) VALUES ";
const ROW = "(?, ?, ?, ?, ?, ?, 'import', ?)";
const PARAMS_PER_ROW = 7;

type Outcome = "inserted" | "unchanged";

/**
 * Writes imported touches in multi-row INSERTs of 64 (one statement call per 64 rows).
 * When a batch inserts fewer rows than it holds, the rows of that batch are looked up
 * one by one to tell duplicates from collisions; that only happens on re-imports.
 */
export class TouchInserter {
  private readonly batchInsert;
  private readonly oneInsert;
  private readonly stored;
  private readonly params: unknown[] = [];
  private pending = 0;

  constructor(
    store: Store,
    private readonly now: number,
    private readonly tally: (outcome: Outcome) => void,
  ) {
    const sqlite = store.sqlite;
    this.batchInsert = sqlite.prepare(COLUMNS + Array.from({ length: BATCH }, () => ROW).join(", "));
    this.oneInsert = sqlite.prepare(COLUMNS + ROW);
    this.stored = sqlite.prepare("SELECT id, kind, note, logged_by FROM touchpoints WHERE customer_id = ? AND occurred_at = ? AND dedupe_hash = ?").raw();
  }

  add(customerId: number, row: TouchValues): void {
    this.params.push(customerId, row.kind, row.occurredAt, this.now, row.loggedBy, row.note, touchContentHash(row.kind, row.note, row.loggedBy));
    if (++this.pending === BATCH) this.flush();
  }

  flush(): void {
    if (this.pending === 0) return;
    const params = this.params;
    if (this.pending === BATCH) {
      const result = this.batchInsert.run(params);
      if (result.changes === BATCH) for (let i = 0; i < BATCH; i++) this.tally("inserted");
      // lastInsertRowid is only this statement's when it inserted something; its rows have consecutive ids.
      else this.sortOut(params, BATCH, result.changes === 0 ? Number.POSITIVE_INFINITY : Number(result.lastInsertRowid) - result.changes);
    } else {
      for (let r = 0; r < this.pending; r++) this.tally(this.insertOne(params.slice(r * PARAMS_PER_ROW, (r + 1) * PARAMS_PER_ROW)));
    }
    params.length = 0;
    this.pending = 0;
  }

  /** After a short batch: ids above `before` are this batch's; each is claimed by the first row with its content. */
  private sortOut(params: unknown[], rows: number, before: number): void {
    const claimed = new Set<number>();
    for (let r = 0; r < rows; r++) {
      const row = params.slice(r * PARAMS_PER_ROW, (r + 1) * PARAMS_PER_ROW);
      const found = this.stored.get(row[0], row[2], row[6]) as [number, string, string | null, string | null] | undefined;
      if (found !== undefined && sameContent(found, row)) {
        const [id] = found;
        if (id > before && !claimed.has(id)) {
          claimed.add(id);
          this.tally("inserted");
        } else this.tally("unchanged");
        continue;
      }
      // A different touch holds this hash: probe on from the next value.
      if (found !== undefined) row[6] = ((row[6] as number) + 1) % HASH_SPACE;
      this.tally(this.insertOne(row));
    }
  }

  private insertOne(row: unknown[]): Outcome {
    for (;;) {
      if (this.oneInsert.run(row).changes > 0) return "inserted";
      const found = this.stored.get(row[0], row[2], row[6]) as [number, string, string | null, string | null] | undefined;
      if (found === undefined) throw new Error("an imported touch was ignored by SQLite for a reason other than its dedupe key");
      if (sameContent(found, row)) return "unchanged";
      row[6] = ((row[6] as number) + 1) % HASH_SPACE;
    }
  }
}

/** Stored [id, kind, note, logged_by] against insert params [customer, kind, at, logged_at, logged_by, note, hash]. */
const sameContent = (stored: [number, string, string | null, string | null], row: unknown[]): boolean =>
  stored[1] === row[1] && stored[2] === row[5] && stored[3] === row[4];
