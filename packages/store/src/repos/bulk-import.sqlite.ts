import type BetterSqlite3 from "better-sqlite3";
import type { Db } from "../engine/transaction";
import { type BulkTouchWriter, type ImportedTouch, type TouchWriterOptions, touchContentKey } from "./bulk-import";
import { emitTouchEvents } from "./webhook-events";

/**
 * The touches import on SQLite: prepared multi-row statements on the raw connection.
 *
 * Per 64 rows, one lookup in touchpoints_customer_time (customer_id, occurred_at) finds
 * the stored imported touches they could repeat, right before the 64-row INSERT that
 * writes the same index pages. It is safe without a UNIQUE index because each batch is
 * one BEGIN IMMEDIATE transaction: no other writer adds a touch between the lookup
 * and the insert. (A UNIQUE index on a 53-bit content hash, tried first, meant one
 * more random B-tree insert per row: 1–2 µs at a million rows, more than this lookup.)
 * Those lookups are skipped for a batch when one bounded query finds no imported touch
 * at all in the batch's box of customer ids × instants (a first import of new history,
 * the common case): skipping them took a fifth off the writer's CPU.
 *
 * Each batch runs while holding kysely's connection lock, so no kysely query of this
 * process lands between its statements; its touch.created webhook events (when a webhook
 * subscribes) are written in the batch's transaction, through that connection.
 */
const CHUNK = 64;
const PARAMS_PER_ROW = 7;

type Statement = BetterSqlite3.Statement<unknown[]>;

/** Every id of these [first, last] runs. */
function idsOf(ranges: ReadonlyArray<readonly [number, number]>): number[] {
  const ids: number[] = [];
  for (const [first, last] of ranges) for (let id = first; id <= last; id++) ids.push(id);
  return ids;
}

interface WriterStatements {
  maxId?: Statement;
  inserts: Map<number, Statement>;
  lookups: Map<number, Statement>;
  externalLookups: Map<number, Statement>;
}

/** Per connection, kept across writers: the API opens one per request, and preparing its statements each time cost more than the write. */
const statementsByConnection = new WeakMap<BetterSqlite3.Database, WriterStatements>();
function statementsOf(sqlite: BetterSqlite3.Database): WriterStatements {
  let statements = statementsByConnection.get(sqlite);
  if (statements === undefined) {
    statements = { inserts: new Map(), lookups: new Map(), externalLookups: new Map() };
    statementsByConnection.set(sqlite, statements);
  }
  return statements;
}

export async function openSqliteTouchWriter(db: Db, sqlite: BetterSqlite3.Database, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const { loggedAt, ledger, dryRun = false, keepSettings = false, oneFile = false } = options;
  const statements = statementsOf(sqlite);
  const { inserts, lookups, externalLookups } = statements;
  const params: unknown[] = [];
  const keys: unknown[] = [];
  const externalIds: string[] = [];
  const maxTouchId = (): Statement => {
    statements.maxId ??= sqlite.prepare("SELECT coalesce(max(id), 0) FROM touchpoints").pluck();
    return statements.maxId;
  };
  // For the import's duration, then handed back as they were: a page cache of the
  // import's size class, and no foreign-key checks, which made the 64-row touch inserts
  // ≈ 2.5 × as costly (touchpoints is a child of customers and a parent of nudges).
  // Safe: every customer id written was read from customers by this import, and
  // keepwarm never deletes a customer (only `demo --reset` empties a demo database).
  // Pragmas are no-ops inside a transaction: these run between them.
  let restore: { cacheSize: number; foreignKeys: number } | undefined;
  if (!keepSettings)
    await db.connection().execute(async () => {
      restore = { cacheSize: Number(sqlite.pragma("cache_size", { simple: true })), foreignKeys: Number(sqlite.pragma("foreign_keys", { simple: true })) };
      sqlite.pragma("foreign_keys = OFF");
      sqlite.pragma("cache_size = -65536");
    });

  const insert = (rows: number): Statement => {
    let statement = inserts.get(rows);
    if (statement === undefined) {
      // OR IGNORE only to spare SQLite a statement journal: a plain multi-row INSERT
      // inside a transaction must be able to undo itself halfway, so it first copies
      // every page it touches (that more than doubled the cost of an insert). Nothing
      // here can be ignored (touchpoints has no unique key besides its id, values are
      // validated), so a short count is a bug and throws (the batch rolls back).
      statement = sqlite.prepare(
        `INSERT OR IGNORE INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, 'import')").join(", ")}`,
      );
      inserts.set(rows, statement);
    }
    return statement;
  };
  const lookup = (rows: number): Statement => {
    let statement = lookups.get(rows);
    if (statement === undefined) {
      statement = sqlite
        .prepare(
          `SELECT customer_id, occurred_at, kind, note, logged_by FROM touchpoints
           WHERE (customer_id, occurred_at) IN (VALUES ${Array.from({ length: rows }, () => "(?, ?)").join(", ")}) AND source = 'import' AND external_id IS NULL`,
        )
        .raw();
      lookups.set(rows, statement);
    }
    return statement;
  };
  let near: Statement | undefined;
  /**
   * The ids this writer has committed (oneFile only), while they are one run (no other
   * writer added a touch in between).
   */
  const ours = { first: 1, last: 0, oneRun: true };
  /**
   * Whether a stored imported touch (no external id) may repeat a row of the batch. If
   * none lies in the batch's box of customer ids × instants, none can. With oneFile, this
   * writer's own touches do not count: a row's copies among them are its earlier
   * occurrences in the file, fewer than its own occurrence number. The look reads at
   * most a quarter as many touches as the batch has rows (a fraction of the lookups it
   * spares); finding that many, or this writer's ids not being one run, it answers yes.
   */
  const mayRepeat = (rows: readonly ImportedTouch[]): boolean => {
    if (!ours.oneRun) return true;
    let minCustomer = Number.POSITIVE_INFINITY;
    let maxCustomer = Number.NEGATIVE_INFINITY;
    let minAt = Number.POSITIVE_INFINITY;
    let maxAt = Number.NEGATIVE_INFINITY;
    for (const row of rows) {
      if (row.externalId !== null) continue;
      if (row.customerId < minCustomer) minCustomer = row.customerId;
      if (row.customerId > maxCustomer) maxCustomer = row.customerId;
      if (row.occurredAt < minAt) minAt = row.occurredAt;
      if (row.occurredAt > maxAt) maxAt = row.occurredAt;
    }
    if (minCustomer > maxCustomer) return false;
    near ??= sqlite
      .prepare(
        `SELECT source = 'import' AND external_id IS NULL FROM touchpoints
         WHERE customer_id BETWEEN ? AND ? AND occurred_at BETWEEN ? AND ? AND id NOT BETWEEN ? AND ? LIMIT ?`,
      )
      .pluck();
    const limit = Math.ceil(rows.length / 4);
    const found = near.all(minCustomer, maxCustomer, minAt, maxAt, ours.first, ours.last, limit) as number[];
    return found.length === limit || found.includes(1);
  };
  /** Note a committed batch's ids (in a dry run nothing stays, so nothing is ours). */
  const noteOurs = (ranges: ReadonlyArray<readonly [number, number]>): void => {
    for (const [first, last] of ranges) {
      if (ours.last < ours.first) ours.first = first;
      else if (first !== ours.last + 1) ours.oneRun = false;
      ours.last = last;
    }
  };
  const byExternalId = (ids: number): Statement => {
    let statement = externalLookups.get(ids);
    if (statement === undefined) {
      statement = sqlite.prepare(`SELECT external_id FROM touchpoints WHERE external_id IN (${Array.from({ length: ids }, () => "?").join(", ")})`).pluck();
      externalLookups.set(ids, statement);
    }
    return statement;
  };

  /**
   * Insert the rows whose params are in `params`; returns the id range they got (the write lock is held: ids are consecutive).
   * The values go as arguments, not as one array: better-sqlite3 reads an array's items through V8's
   * generic Object::Get, which cost more than SQLite's own work for the insert (callgrind, 64-row statements).
   */
  const write = (rows: number, values: unknown[]): [number, number] => {
    const { changes, lastInsertRowid } = insert(rows).run(...values);
    if (changes !== rows) throw new Error(`touch import: SQLite ignored ${rows - changes} of ${rows} rows`);
    const last = Number(lastInsertRowid);
    return [last - rows + 1, last];
  };

  const writeBatch = (rows: readonly ImportedTouch[]): { inserted: number; fresh: boolean[]; ranges: Array<[number, number]> } => {
    const total = rows.length;
    const ranges: Array<[number, number]> = [];
    const fresh: boolean[] = new Array(total).fill(true);
    let inserted = 0;
    const probe = mayRepeat(rows);
    for (let from = 0; from < total; from += CHUNK) {
      const to = Math.min(total, from + CHUNK);
      params.length = 0;
      keys.length = 0;
      externalIds.length = 0;
      for (let r = from; r < to; r++) {
        const row = rows[r] as ImportedTouch;
        params.push(row.customerId, row.kind, row.occurredAt, loggedAt, row.loggedBy, row.note, row.externalId);
        if (row.externalId === null) {
          if (probe) keys.push(row.customerId, row.occurredAt);
        } else externalIds.push(row.externalId);
      }
      const stored = keys.length === 0 || !probe ? [] : (lookup(keys.length / 2).all(...keys) as unknown[][]);
      // Rows without an external id are each the nth of their content: with nothing stored at their instants, all are new.
      if (stored.length === 0 && externalIds.length === 0) {
        ranges.push(write(to - from, params));
        inserted += to - from;
        continue;
      }
      // The slow path: a row is new while fewer stored touches share its content than its occurrence; an external id once.
      const storedCounts = new Map<string, number>();
      for (const row of stored) {
        const key = JSON.stringify(row);
        storedCounts.set(key, (storedCounts.get(key) ?? 0) + 1);
      }
      const seenIds = externalIds.length === 0 ? new Set<string>() : new Set(byExternalId(externalIds.length).all(...externalIds) as string[]);
      const chosen: unknown[] = [];
      for (let r = from; r < to; r++) {
        const row = rows[r] as ImportedTouch;
        if (row.externalId !== null) {
          if (seenIds.has(row.externalId)) {
            fresh[r] = false;
            continue;
          }
          seenIds.add(row.externalId);
        } else if ((storedCounts.get(touchContentKey(row)) ?? 0) >= (row.occurrence ?? 1)) {
          fresh[r] = false;
          continue;
        }
        const at = (r - from) * PARAMS_PER_ROW;
        for (let i = 0; i < PARAMS_PER_ROW; i++) chosen.push(params[at + i]);
      }
      if (chosen.length > 0) {
        ranges.push(write(chosen.length / PARAMS_PER_ROW, chosen));
        inserted += chosen.length / PARAMS_PER_ROW;
      }
    }
    return { inserted, fresh, ranges };
  };

  return {
    parallel: 1,
    async write(rows, within) {
      const result = await db.connection().execute(async (conn) => {
        sqlite.exec("BEGIN IMMEDIATE");
        try {
          const after = within === undefined ? 0 : Number(maxTouchId().get());
          const written = writeBatch(rows);
          if (!dryRun) await emitTouchEvents(conn, idsOf(written.ranges), loggedAt);
          await within?.(conn, after);
          sqlite.exec(dryRun ? "ROLLBACK" : "COMMIT");
          return written;
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw error;
        }
      });
      if (!dryRun) {
        for (const [first, last] of result.ranges) ledger.addRange("touchpoints", first, last);
        if (oneFile) noteOurs(result.ranges);
      }
      return { inserted: result.inserted, unchanged: rows.length - result.inserted, fresh: result.fresh };
    },
    async close() {
      const previous = restore;
      if (previous === undefined) return;
      restore = undefined;
      await db.connection().execute(async () => {
        sqlite.pragma(`cache_size = ${previous.cacheSize}`);
        sqlite.pragma(`foreign_keys = ${previous.foreignKeys}`);
      });
    },
  };
}
