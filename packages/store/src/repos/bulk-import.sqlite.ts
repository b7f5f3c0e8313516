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
  const { loggedAt, ledger, dryRun = false, keepSettings = false } = options;
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
  const byExternalId = (ids: number): Statement => {
    let statement = externalLookups.get(ids);
    if (statement === undefined) {
      statement = sqlite.prepare(`SELECT external_id FROM touchpoints WHERE external_id IN (${Array.from({ length: ids }, () => "?").join(", ")})`).pluck();
      externalLookups.set(ids, statement);
    }
    return statement;
  };

  /** Insert the rows whose params are in `params`; returns the id range they got (the write lock is held: ids are consecutive). */
  const write = (rows: number, values: unknown[]): [number, number] => {
    const { changes, lastInsertRowid } = insert(rows).run(values);
    if (changes !== rows) throw new Error(`touch import: SQLite ignored ${rows - changes} of ${rows} rows`);
    const last = Number(lastInsertRowid);
    return [last - rows + 1, last];
  };

  const writeBatch = (rows: readonly ImportedTouch[]): { inserted: number; fresh: boolean[]; ranges: Array<[number, number]> } => {
    const total = rows.length;
    const ranges: Array<[number, number]> = [];
    const fresh: boolean[] = new Array(total).fill(true);
    let inserted = 0;
    for (let from = 0; from < total; from += CHUNK) {
      const to = Math.min(total, from + CHUNK);
      params.length = 0;
      keys.length = 0;
      externalIds.length = 0;
      for (let r = from; r < to; r++) {
        const row = rows[r] as ImportedTouch;
        params.push(row.customerId, row.kind, row.occurredAt, loggedAt, row.loggedBy, row.note, row.externalId);
        if (row.externalId === null) keys.push(row.customerId, row.occurredAt);
        else externalIds.push(row.externalId);
      }
      const stored = keys.length === 0 ? [] : (lookup(keys.length / 2).all(keys) as unknown[][]);
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
      const seenIds = externalIds.length === 0 ? new Set<string>() : new Set(byExternalId(externalIds.length).all(externalIds) as string[]);
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
      if (!dryRun) for (const [first, last] of result.ranges) ledger.addRange("touchpoints", first, last);
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
