import { sql } from "kysely";
import type pg from "pg";
import { copyField, copyFromText, RollBack, withClientTransaction } from "../engine/client-transaction.postgres";
import { pgBigintArray } from "../engine/pg-array";
import { type Db, writeTransaction } from "../engine/transaction";
import type { BulkTouchWriter, ImportedTouch, TouchWriterOptions } from "./bulk-import";
import { emitTouchEvents } from "./webhook-events";

/**
 * The touches import on PostgreSQL. Per batch, in one transaction: the duplicates are
 * found by one probe statement and left out in Node, ids are drawn from the identity's
 * sequence in the batch's order, and the new rows are sent with COPY, which inserts
 * them a heap page at a time (an INSERT … SELECT inserts row by row). Measured at 200k
 * rows into 10k customers, server CPU per row (load ≈ 13): 17 µs for the former single
 * INSERT … SELECT with a LATERAL probe per row, 8 µs for this (4 µs of it the COPY).
 *
 * - The probe sends only each row's (customer_id, occurred_at) and gets back the stored
 *   imported touches without an external id at those instants (a forced nested loop
 *   over touchpoints_customer_time: a planner whose statistics lag a growing import
 *   picked a hash join over the whole table before). A row is a duplicate when at least
 *   `occurrence` of them have its exact content, as on SQLite. A row with an external id
 *   is looked up by it, and inserted by INSERT … ON CONFLICT DO NOTHING: a unique index
 *   decides against a concurrent writer, which a COPY could not (it would fail).
 * - Content checks race under READ COMMITTED: two imports of the same file at once
 *   would each see the other's rows as absent. A batch therefore first takes
 *   transaction-level advisory locks on the blocks of 1,024 customer ids it covers, in
 *   ascending order (no deadlock): imports touching the same customers write one at a
 *   time, as on SQLite; /touch and the sweep never wait for them.
 * - A write of a few customers (an API request), or an API batch of up to 1,000 rows, is
 *   one INSERT … SELECT instead, one round trip, with a LATERAL probe per row (no COPY,
 *   no id draw; an API batch locks its blocks like an import). A few customers' write takes
 *   its blocks shared and then each customer's own lock: single events for different
 *   customers of one block go at once instead of in single file (which held the pool's
 *   connections waiting at 500 requests a second), and still wait for an import of
 *   their block. Block locks before customer locks, each in ascending order: no deadlock.
 * - The foreign key on customer_id is a trigger per row: half the cost of an insert.
 *   When the role may set session_replication_role (a superuser, or granted with `GRANT
 *   SET ON PARAMETER session_replication_role`), a CSV import's transactions switch the
 *   triggers off (keepwarm defines none of its own) and check the batch's customers in
 *   one statement instead: each exists and is locked FOR KEY SHARE until the commit,
 *   which is what the trigger does per row. Otherwise the trigger runs.
 * - Two batches run at once (each on its own connection, on disjoint customer ranges):
 *   the server's work is what limits the import, and one backend uses one core.
 * - Round trips per batch of a first import: BEGIN with the settings, locks and
 *   customer check (one statement of literals); the probe, which then also draws the
 *   ids; the COPY; the webhook subscribers; COMMIT (ten before). Each is a wait for
 *   the server in the batch's transaction. A batch whose probe finds stored touches
 *   draws its ids in a round trip of its own, once Node has told the duplicates apart.
 * - Batches commit without waiting for their WAL flush (synchronous_commit off, for
 *   that transaction only); close() then commits one transaction that does wait,
 *   which flushes the WAL up to it and so every batch before it. A crash mid-import
 *   can lose batches, as a killed import would leave them half written anyway; once
 *   the import has returned, every batch is durable.
 */
const CUSTOMER_BLOCK_BITS = 10;
const CUSTOMER_BLOCK = 2 ** CUSTOMER_BLOCK_BITS;
/** Up to this many customers (and FEW_ROWS rows) a write is one statement that locks each customer (under its blocks, shared). */
const FEW_CUSTOMERS = 16;
const FEW_ROWS = 1000;

const PROBE = `SELECT v.place::int AS place, t.kind, t.note, t.logged_by
  FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS v(customer_id, occurred_at, place)
  CROSS JOIN LATERAL (
    SELECT t.kind, t.note, t.logged_by FROM touchpoints t
    WHERE t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import' AND t.external_id IS NULL
    OFFSET 0) AS t`;

/**
 * The probe of a batch without external ids, which also draws its ids when it finds no
 * stored touch at any of its instants (a first import: every row is new, and the draw
 * needs no round trip of its own). Found any, it draws none: only Node can tell which
 * of them are duplicates. The draw comes last, with place 0.
 */
const PROBE_AND_DRAW = `WITH stored AS MATERIALIZED (${PROBE}),
  drawn AS (SELECT nextval($3::regclass) AS v FROM generate_series(1, $4::int) WHERE NOT EXISTS (SELECT 1 FROM stored))
  SELECT place, kind, note, logged_by, NULL::bigint AS lo, NULL::bigint[] AS ids FROM stored
  UNION ALL
  SELECT 0, NULL, NULL, NULL, min(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v ORDER BY v) END FROM drawn HAVING count(*) > 0`;

const INSERT_WITH_EXTERNAL_IDS = `INSERT INTO touchpoints (id, customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
  SELECT id, customer_id, kind, occurred_at, $8, logged_by, note, external_id, 'import'
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])
    AS v(id, customer_id, kind, occurred_at, logged_by, note, external_id)
  ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
  RETURNING id`;

const COPY = "COPY touchpoints (id, customer_id, kind, occurred_at, logged_at, logged_by, note, source) FROM STDIN";

/** A stored imported touch at a probed row's instant: the row's place in the probe, kind, note, logged_by (PROBE_AND_DRAW adds its draw's two columns). */
type StoredTouch = [number, string, string | null, string | null, ...unknown[]];

interface ExternalRows {
  id: number[];
  customerId: number[];
  kind: string[];
  occurredAt: number[];
  loggedBy: Array<string | null>;
  note: Array<string | null>;
  externalId: string[];
}

interface Written {
  /** Ids of the rows inserted, ascending. */
  ids: number[];
  fresh: boolean[];
}

/** The draw of a batch's ids, in the batch's order: a range, unless another session drew some meanwhile (then listed). */
const DRAW = `SELECT min(v) AS lo, CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v ORDER BY v) END AS ids
  FROM (SELECT nextval($1::regclass) AS v FROM generate_series(1, $2::int)) AS drawn`;

/** Ids drawn for a batch: the ith fresh row's id is lo + i, or ids[i] when listed. */
interface Drawn {
  lo: number;
  ids: string[] | null;
}

export async function openPostgresTouchWriter(db: Db, pool: pg.Pool, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const { loggedAt, ledger, dryRun = false, keepSettings = false } = options;
  // Read on the first batch: a write of a few rows (an API request) never needs them.
  let batchSetup: Promise<{ sequence: string; settings: string; skipTriggers: boolean }> | undefined;
  const setupOfBatches = () =>
    (batchSetup ??= sql<{ sequence: string; skip_triggers: boolean }>`
      SELECT pg_get_serial_sequence('touchpoints', 'id') AS sequence,
        has_parameter_privilege('session_replication_role', 'SET') AS skip_triggers`
      .execute(db)
      .then(({ rows: [setup] }) => {
        const skipTriggers = !keepSettings && setup?.skip_triggers === true;
        // No JIT: compiling these per-row expressions costs more than it saves. No bitmap scans: the
        // probe's planner chose one per probed row, at twice the server CPU of a plain index scan.
        const settings = `set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true)${keepSettings ? "" : ", set_config('synchronous_commit', 'off', true)"}${skipTriggers ? ", set_config('session_replication_role', 'replica', true)" : ""}`;
        return { sequence: setup?.sequence as string, settings, skipTriggers };
      }));

  /**
   * A batch's first statement, sent with its BEGIN in one round trip (so its values are
   * literals, all of them integers): the settings, the locks of its customer blocks, its
   * customers locked FOR KEY SHARE when the triggers are off, and the highest touch id
   * for `within` (read as the statement starts: touches committed meanwhile only widen
   * `after`'s range). Then `locked` and `after`.
   */
  const opening = (settings: string, skipTriggers: boolean, customerIds: readonly number[], within: boolean): string => {
    for (const id of customerIds) if (!Number.isSafeInteger(id)) throw new Error(`touch import: customer id ${id} is not an integer`);
    const first = customerIds[0] as number;
    const last = customerIds[customerIds.length - 1] as number;
    return `SELECT ${settings},
      (SELECT count(pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b::int))
        FROM generate_series(${first}::bigint >> ${CUSTOMER_BLOCK_BITS}, ${last}::bigint >> ${CUSTOMER_BLOCK_BITS}) AS b) AS locks,
      ${skipTriggers ? `(SELECT count(*)::int FROM (SELECT 1 FROM customers WHERE id = ANY('{${customerIds.join(",")}}'::bigint[]) FOR KEY SHARE) AS locked)` : "NULL::int"} AS locked,
      ${within ? "(SELECT coalesce(max(id), 0) FROM touchpoints)" : "0::bigint"} AS after`;
  };

  const writeBatch = async (client: pg.PoolClient, rows: readonly ImportedTouch[], sequence: string): Promise<Written> => {
    const fresh: boolean[] = new Array(rows.length).fill(true);
    const probed: number[] = [];
    const probeCustomers: number[] = [];
    const probeInstants: number[] = [];
    const externalIds: string[] = [];
    rows.forEach((row, r) => {
      if (row.externalId === null) {
        probed.push(r);
        probeCustomers.push(row.customerId);
        probeInstants.push(row.occurredAt);
      } else externalIds.push(row.externalId);
    });
    let drawn: Drawn | undefined;
    if (probeCustomers.length > 0) {
      const values = [pgBigintArray(probeCustomers), pgBigintArray(probeInstants)];
      if (externalIds.length === 0) {
        const stored = await client.query<StoredTouch>({
          text: PROBE_AND_DRAW,
          values: [...values, sequence, rows.length],
          rowMode: "array",
        });
        const draw = stored.rows.findIndex((row) => row[0] === 0);
        if (draw >= 0) {
          const [row] = stored.rows.splice(draw, 1);
          drawn = { lo: row?.[4] as number, ids: (row?.[5] ?? null) as string[] | null };
        }
        markStored(rows, probed, stored.rows, fresh);
      } else {
        const stored = await client.query<StoredTouch>({ text: PROBE, values, rowMode: "array" });
        markStored(rows, probed, stored.rows, fresh);
      }
    }
    if (externalIds.length > 0) {
      const known = await client.query<[string]>({
        text: "SELECT external_id FROM touchpoints WHERE external_id = ANY($1::text[])",
        values: [externalIds],
        rowMode: "array",
      });
      const seen = new Set(known.rows.map((row) => row[0]));
      rows.forEach((row, r) => {
        if (row.externalId === null) return;
        if (seen.has(row.externalId)) fresh[r] = false;
        else seen.add(row.externalId);
      });
    }
    let count = 0;
    for (const isFresh of fresh) if (isFresh) count++;
    if (count === 0) return { ids: [], fresh };
    // Ids in the batch's order, so a customer's touches keep the file's order.
    drawn ??= (await client.query<Drawn>(DRAW, [sequence, count])).rows[0] as Drawn;
    const { lo, ids: listed } = drawn;
    const idAt = listed === null ? (i: number) => lo + i : (i: number) => Number(listed[i]);
    const copy = new CopyText(rows.length * 96);
    const external: ExternalRows = { id: [], customerId: [], kind: [], occurredAt: [], loggedBy: [], note: [], externalId: [] };
    const ids: number[] = [];
    let i = 0;
    for (let r = 0; r < rows.length; r++) {
      if (!fresh[r]) continue;
      const row = rows[r] as ImportedTouch;
      const id = idAt(i++);
      if (row.externalId === null) {
        copy.add(
          `${id}\t${row.customerId}\t${copyField(row.kind)}\t${row.occurredAt}\t${loggedAt}\t${copyField(row.loggedBy)}\t${copyField(row.note)}\timport\n`,
        );
        ids.push(id);
        continue;
      }
      external.id.push(id);
      external.customerId.push(row.customerId);
      external.kind.push(row.kind);
      external.occurredAt.push(row.occurredAt);
      external.loggedBy.push(row.loggedBy);
      external.note.push(row.note);
      external.externalId.push(row.externalId);
    }
    if (ids.length > 0) await copyFromText(client, COPY, copy.bytes());
    if (external.id.length === 0) return { ids, fresh };
    // An external id another session stored since the lookup: its unique index decides.
    const result = await client.query<[number]>({
      text: INSERT_WITH_EXTERNAL_IDS,
      values: [external.id, external.customerId, external.kind, external.occurredAt, external.loggedBy, external.note, external.externalId, loggedAt],
      rowMode: "array",
    });
    const inserted = new Set(result.rows.map((row) => row[0]));
    i = 0;
    for (let r = 0; r < rows.length; r++) {
      if (!fresh[r]) continue;
      const id = idAt(i++);
      if ((rows[r] as ImportedTouch).externalId !== null && !inserted.has(id)) fresh[r] = false;
    }
    ids.push(...inserted);
    return { ids: ids.sort((a, b) => a - b), fresh };
  };

  return {
    parallel: 2,
    async write(rows, within) {
      if (rows.length === 0) return { inserted: 0, unchanged: 0, fresh: [] };
      const customers = [...new Set(rows.map((row) => row.customerId))].sort((a, b) => a - b);
      // An API batch (keepSettings) is one statement too: COPY's extra round trips cost more than they save at 1,000 rows.
      if (rows.length <= FEW_ROWS && (customers.length <= FEW_CUSTOMERS || keepSettings)) {
        const few = await writeFew(db, rows, customers, { loggedAt, dryRun, keepSettings }, within);
        if (!dryRun) addRuns(ledger, few.ids);
        return { inserted: few.ids.length, unchanged: rows.length - few.ids.length, fresh: few.fresh };
      }
      const { sequence, settings, skipTriggers } = await setupOfBatches();
      const written = await withClientTransaction(
        pool,
        async (client, trx, opened) => {
          const [start] = opened.rows as Array<{ locked: number | null; after: number }>;
          if (skipTriggers && start?.locked !== customers.length) throw new Error("touch import: a customer of this batch was deleted while it was imported");
          const result = await writeBatch(client, rows, sequence);
          await within?.(trx, Number(start?.after ?? 0));
          if (dryRun) throw new RollBack(result);
          // touch.created for exactly the rows this batch inserted, in its transaction.
          await emitTouchEvents(trx, result.ids, loggedAt);
          return result;
        },
        opening(settings, skipTriggers, customers, within !== undefined),
      );
      if (!dryRun) addRuns(ledger, written.ids);
      return { inserted: written.ids.length, unchanged: rows.length - written.ids.length, fresh: written.fresh };
    },
    async close() {
      if (keepSettings) return;
      // A transaction with a transaction id commits synchronously: the WAL is flushed
      // up to its commit record, and with it every batch committed before.
      await sql`SELECT txid_current()`.execute(db);
    },
  };
}

/** Thrown to roll a dry run's few-rows write back. */
class DryRunRollback extends Error {
  constructor(readonly written: Written) {
    super("dry run");
  }
}

/** A write of a few customers' rows, or an API batch: one statement (see the module's comment). */
async function writeFew(
  db: Db,
  rows: readonly ImportedTouch[],
  customers: readonly number[],
  { loggedAt, dryRun, keepSettings }: { loggedAt: number; dryRun: boolean; keepSettings: boolean },
  within: Parameters<BulkTouchWriter["write"]>[1],
): Promise<Written> {
  const fresh: boolean[] = new Array(rows.length).fill(true);
  const transaction = writeTransaction(db, async (trx) => {
    if (!keepSettings) await sql`SET LOCAL synchronous_commit = off`.execute(trx);
    // One round trip: no JIT (compiling these per-row expressions costs more than it
    // saves), the locks, and the highest touch id (read as the statement starts:
    // touches committed meanwhile only widen `after`'s range).
    const locks =
      customers.length <= FEW_CUSTOMERS
        ? sql`SELECT count(*) FROM (
            SELECT pg_advisory_xact_lock_shared(hashtext('keepwarm:touch-import'), b) FROM unnest(${[...new Set(customers.map((c) => Math.floor(c / CUSTOMER_BLOCK)))]}::int[]) AS b
            UNION ALL
            SELECT pg_advisory_xact_lock(hashtext('keepwarm:touch-customer'), (c % 2147483648)::int) FROM unnest(${customers}::bigint[]) AS c) AS locked`
        : sql`SELECT count(pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b::int))
            FROM generate_series(${customers[0]}::bigint >> ${CUSTOMER_BLOCK_BITS}, ${customers[customers.length - 1]}::bigint >> ${CUSTOMER_BLOCK_BITS}) AS b`;
    const start = await sql<{ after: number }>`SELECT set_config('jit', 'off', true), (${locks}) AS locks,
      ${within === undefined ? sql`0` : sql`(SELECT coalesce(max(id), 0) FROM touchpoints)`} AS after`.execute(trx);
    const after = Number(start.rows[0]?.after ?? 0);
    const columns = columnsOf(rows, fresh);
    let ids: number[] = [];
    if (columns.customerId.length > 0) {
      // A row without an external id is new unless `occurrence` stored imported touches share its content (OFFSET n-1 LIMIT 1: the nth).
      const result = await sql<{ ids: number[] | null; skipped: number[] | null }>`
        WITH v AS (
          SELECT * FROM unnest(${columns.customerId}::bigint[], ${columns.kind}::text[], ${columns.occurredAt}::bigint[], ${columns.loggedBy}::text[], ${columns.note}::text[], ${columns.externalId}::text[], ${columns.occurrence}::int[], ${columns.index}::int[])
            AS v(customer_id, kind, occurred_at, logged_by, note, external_id, occurrence, pos)),
        chosen AS (
          SELECT v.* FROM v
          LEFT JOIN LATERAL (
            SELECT 1 AS found FROM touchpoints t
            WHERE v.external_id IS NULL AND t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import'
              AND t.external_id IS NULL AND t.kind = v.kind AND t.note IS NOT DISTINCT FROM v.note AND t.logged_by IS NOT DISTINCT FROM v.logged_by
            OFFSET v.occurrence - 1 LIMIT 1) AS stored ON true
          LEFT JOIN LATERAL (SELECT 1 AS found FROM touchpoints t WHERE t.external_id = v.external_id LIMIT 1) AS known ON true
          WHERE stored.found IS NULL AND known.found IS NULL),
        inserted AS (
          INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
          SELECT customer_id, kind, occurred_at, ${loggedAt}, logged_by, note, external_id, 'import' FROM chosen ORDER BY pos
          -- An external id another session stored meanwhile: its unique index decides.
          ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
          RETURNING id)
        SELECT (SELECT array_agg(id ORDER BY id) FROM inserted) AS ids,
          (SELECT array_agg(pos) FROM v WHERE NOT EXISTS (SELECT 1 FROM chosen c WHERE c.pos = v.pos)) AS skipped`.execute(trx);
      const summary = result.rows[0];
      for (const index of summary?.skipped ?? []) fresh[index] = false;
      ids = (summary?.ids ?? []).map(Number);
    }
    await within?.(trx, after);
    if (dryRun) throw new DryRunRollback({ ids, fresh });
    // touch.created for exactly the rows this write inserted, in its transaction.
    await emitTouchEvents(trx, ids, loggedAt);
    return { ids, fresh };
  });
  return transaction.catch((error: unknown) => {
    if (error instanceof DryRunRollback) return error.written;
    throw error;
  });
}

interface TouchColumns {
  customerId: number[];
  occurredAt: number[];
  kind: string[];
  note: Array<string | null>;
  loggedBy: Array<string | null>;
  externalId: Array<string | null>;
  occurrence: number[];
  /** The row's index in the batch. */
  index: number[];
}

/** The rows as columns, without a repeat of an external id earlier in them (marked not fresh here: one statement cannot see its own inserts). */
function columnsOf(rows: readonly ImportedTouch[], fresh: boolean[]): TouchColumns {
  const columns: TouchColumns = { customerId: [], occurredAt: [], kind: [], note: [], loggedBy: [], externalId: [], occurrence: [], index: [] };
  const externalIds = new Set<string>();
  rows.forEach((row, r) => {
    if (row.externalId !== null) {
      if (externalIds.has(row.externalId)) {
        fresh[r] = false;
        return;
      }
      externalIds.add(row.externalId);
    }
    columns.customerId.push(row.customerId);
    columns.occurredAt.push(row.occurredAt);
    columns.kind.push(row.kind);
    columns.note.push(row.note);
    columns.loggedBy.push(row.loggedBy);
    columns.externalId.push(row.externalId);
    columns.occurrence.push(row.occurrence ?? 1);
    columns.index.push(r);
  });
  return columns;
}

/**
 * Mark the rows without an external id that are stored already: the nth row of a
 * content (its occurrence) is, when at least n stored touches at its instant have its
 * content. `stored` holds, per probed row (its 1-based place in `probed`), the stored
 * imported touches at its customer and instant.
 */
function markStored(rows: readonly ImportedTouch[], probed: readonly number[], stored: readonly StoredTouch[], fresh: boolean[]): void {
  const same = new Map<number, number>();
  for (const [place, kind, note, loggedBy] of stored) {
    const r = probed[place - 1] as number;
    const row = rows[r] as ImportedTouch;
    if (kind === row.kind && note === row.note && loggedBy === row.loggedBy) same.set(r, (same.get(r) ?? 0) + 1);
  }
  for (const [r, count] of same) if (count >= ((rows[r] as ImportedTouch).occurrence ?? 1)) fresh[r] = false;
}

/** COPY's text for a batch, encoded as it is built (one long string cost more to encode at the end than its rows). */
class CopyText {
  private buffer: Buffer;
  private length = 0;
  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }
  add(line: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 code unit.
    if (this.length + line.length * 3 > this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + line.length * 3));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.length += this.buffer.write(line, this.length);
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** Ascending ids into the ledger as runs of consecutive ids. */
function addRuns(ledger: TouchWriterOptions["ledger"], ids: readonly number[]): void {
  let start = 0;
  for (let i = 1; i <= ids.length; i++) {
    if (i < ids.length && ids[i] === (ids[i - 1] as number) + 1) continue;
    ledger.addRange("touchpoints", ids[start] as number, ids[i - 1] as number);
    start = i;
  }
}
