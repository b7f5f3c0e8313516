import { CompiledQuery, sql } from "kysely";
import type pg from "pg";
import { copyFrom, RollBack, withClientTransaction } from "../engine/client-transaction.postgres";
import { pgBigintArray, writePgBigint } from "../engine/pg-array";
import { type Db, writeTransaction } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";
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
 * - Only the rows of customers that have stored touches near them are probed: the
 *   batch's opening lists, per customer, the touches between the first and the last
 *   instant of its rows (touchedAndDrawn); a first import has none, and the touches a
 *   batch shares with the batches before it (customers split between two) are this
 *   import's own, which no row of the file can repeat. The probe was a third of the
 *   server's CPU for a first import, one index lookup per row.
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
 *   time, as on SQLite; the sweep never waits for them. A batch of up to
 *   LOCKED_CUSTOMERS customers takes its blocks shared and then each customer's lock,
 *   as a few customers' write does: batches of different customers of one block (the
 *   import's two running batches, see below) then write at once.
 * - A write of a few customers (an API request), or an API batch of up to 1,000 rows, is
 *   one INSERT … SELECT instead, with a LATERAL probe per row (no COPY, no id draw; an
 *   API batch locks its blocks like an import), inside the PL/pgSQL function
 *   keepwarm_write_touches with the locks: one round trip, planned once per connection.
 *   A single event with nothing to resolve and no listener calls it alone, its whole
 *   transaction (writeTouchesAlone). A few customers' write takes
 *   its blocks shared and then each customer's own lock: single events for different
 *   customers of one block go at once instead of in single file (which held the pool's
 *   connections waiting at 500 requests a second), and still wait for an import of
 *   their customers (or of their whole block, one of more than LOCKED_CUSTOMERS). Block
 *   locks before customer locks, each in ascending order: no deadlock.
 * - The foreign key on customer_id is a trigger per row: half the cost of an insert.
 *   When the role may set session_replication_role (a superuser, or granted with `GRANT
 *   SET ON PARAMETER session_replication_role`), a CSV import's transactions switch the
 *   triggers off (keepwarm defines none of its own) and check the batch's customers in
 *   one statement instead: each exists and is locked FOR KEY SHARE until the commit,
 *   which is what the trigger does per row. Otherwise the trigger runs.
 * - Two batches run at once, each on its own connection. They end where a customer id
 *   range (a spool partition) ends, so the two hold different customers and the server
 *   writes both at once, on two cores (before, they shared a range and its locks, and
 *   the second waited for the first's commit: server and importer took turns). Within
 *   a range larger than a batch they still share customers; the second then waits in
 *   its opening with its COPY data built (CopyRows, before its transaction).
 * - Round trips per batch of a first import: BEGIN with the settings, locks, customer
 *   check and (a statement of its own) the touched customers and the draw of the ids,
 *   all literals; the COPY; the webhook subscribers; COMMIT (ten before the probe moved
 *   to COPY, five before the probe was skipped). Each is a wait for the server in the
 *   batch's transaction. A batch whose customers have stored touches probes their rows,
 *   and draws its ids with the probe or, when that finds some, in a round trip of its
 *   own, once Node has told the duplicates apart.
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
/**
 * Up to this many customers, a batch locks each customer (under its blocks, shared)
 * instead of its blocks: batches of other customers in the same blocks then go at
 * once. More would crowd the server's lock table (a few thousand entries, shared by
 * every session), where a lock per customer takes one entry until the commit.
 */
const LOCKED_CUSTOMERS = 1000;

const PROBE = `SELECT v.place::int AS place, t.kind, t.note, t.logged_by
  FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS v(customer_id, occurred_at, place)
  CROSS JOIN LATERAL (
    SELECT t.kind, t.note, t.logged_by FROM touchpoints t
    WHERE t.customer_id = v.customer_id AND t.occurred_at = v.occurred_at AND t.source = 'import' AND t.external_id IS NULL
    OFFSET 0) AS t`;

/**
 * A batch's drawn ids (the values `v`) as `lo` and `ids`: a range from lo, unless
 * another session drew some meanwhile (then listed). The shape of Drawn.
 */
const DRAWN_IDS = "min(v) AS lo, CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v ORDER BY v) END AS ids";

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
  SELECT 0, NULL, NULL, NULL, ${DRAWN_IDS} FROM drawn HAVING count(*) > 0`;

const INSERT_WITH_EXTERNAL_IDS = `INSERT INTO touchpoints (id, customer_id, kind, occurred_at, logged_at, logged_by, note, external_id, source)
  SELECT id, customer_id, kind, occurred_at, $8, logged_by, note, external_id, 'import'
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])
    AS v(id, customer_id, kind, occurred_at, logged_by, note, external_id)
  ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
  RETURNING id`;

const COPY = "COPY touchpoints (id, customer_id, kind, occurred_at, logged_at, logged_by, note, source) FROM STDIN (FORMAT binary)";

/** Touch ids listed per customer by touchedAndDrawn: a customer with more is probed whatever they are. */
const LISTED = 256;

/**
 * The batch's customers (of its rows without an external id) that have a stored touch,
 * of any source, between the first and the last instant of their rows in it, with the
 * ids of those touches (up to LISTED): only those customers' rows can be stored
 * already, and not even theirs when every such touch is one this import wrote and its
 * writes are one file's (TouchWriterOptions.oneFile: a row is then new, as an earlier
 * row of the file with its content made it a later occurrence; the ledger knows this
 * import's touches). So a first import probes no row (one index lookup per customer
 * instead of one per row). Unless those customers hold more than half of the batch's rows,
 * `draw` ids are drawn too (0: none), for rows some of which may turn out stored (their
 * ids are then left unused). Sent with the batch's opening, as a statement of its own
 * after it: it must see what was committed until the block locks were granted, and a
 * statement sees what was committed when it started. Its values are literals (whole
 * numbers, checked), as the opening's.
 */
function touchedAndDrawn(sequence: string, ranges: CustomerRanges, draw: number): string {
  const array = (values: readonly number[]) => `'{${values.join(",")}}'::bigint[]`;
  return `WITH touched AS MATERIALIZED (
      SELECT c.id, c.rows, s.ids FROM unnest(${array(ranges.customers)}, ${array(ranges.first)}, ${array(ranges.last)}, ${array(ranges.rows)}) AS c(id, lo, hi, rows)
      CROSS JOIN LATERAL (SELECT array_agg(t.id) AS ids FROM (
        SELECT t.id FROM touchpoints t WHERE t.customer_id = c.id AND t.occurred_at BETWEEN c.lo AND c.hi LIMIT ${LISTED}) AS t) AS s
      WHERE s.ids IS NOT NULL),
    drawn AS (SELECT nextval('${sequence.replaceAll("'", "''")}'::regclass) AS v FROM generate_series(1, ${draw})
      WHERE (SELECT coalesce(sum(rows), 0) FROM touched) * 2 <= ${draw})
    SELECT (SELECT json_agg(json_build_array(id, ids)) FROM touched) AS touched, ${DRAWN_IDS} FROM drawn`;
}

/** Per customer of a batch's rows without an external id (ascending): the first and the last instant of its rows, and their number. */
interface CustomerRanges {
  customers: number[];
  first: number[];
  last: number[];
  rows: number[];
}

function customerRanges(rows: readonly ImportedTouch[]): CustomerRanges {
  const byCustomer = new Map<number, [number, number, number]>();
  for (const row of rows) {
    if (row.externalId !== null) continue;
    if (!Number.isSafeInteger(row.occurredAt)) throw new Error(`touch import: instant ${row.occurredAt} is not an integer`);
    const range = byCustomer.get(row.customerId);
    if (range === undefined) byCustomer.set(row.customerId, [row.occurredAt, row.occurredAt, 1]);
    else {
      if (row.occurredAt < range[0]) range[0] = row.occurredAt;
      else if (row.occurredAt > range[1]) range[1] = row.occurredAt;
      range[2]++;
    }
  }
  const customers = [...byCustomer.keys()].sort((a, b) => a - b);
  const ranges = customers.map((c) => byCustomer.get(c) as [number, number, number]);
  return { customers, first: ranges.map((r) => r[0]), last: ranges.map((r) => r[1]), rows: ranges.map((r) => r[2]) };
}

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

/** The draw of a batch's ids, in the batch's order. */
const DRAW = `SELECT ${DRAWN_IDS} FROM (SELECT nextval($1::regclass) AS v FROM generate_series(1, $2::int)) AS drawn`;

/** Ids drawn for a batch: the ith fresh row's id is lo + i, or ids[i] when listed. */
interface Drawn {
  lo: number;
  ids: string[] | null;
}

export async function openPostgresTouchWriter(db: Db, pool: pg.Pool, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const { loggedAt, ledger, dryRun = false, keepSettings = false, oneFile = false } = options;
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
  const openingOf = (settings: string, skipTriggers: boolean, customerIds: readonly number[], within: boolean): string => {
    for (const id of customerIds) if (!Number.isSafeInteger(id)) throw new Error(`touch import: customer id ${id} is not an integer`);
    const first = customerIds[0] as number;
    const last = customerIds[customerIds.length - 1] as number;
    const blocks = `generate_series(${first}::bigint >> ${CUSTOMER_BLOCK_BITS}, ${last}::bigint >> ${CUSTOMER_BLOCK_BITS}) AS b`;
    const ids = `'{${customerIds.join(",")}}'::bigint[]`;
    // Up to LOCKED_CUSTOMERS customers, the blocks shared and then each customer's own lock, as a few customers' write takes them.
    const locks =
      customerIds.length <= LOCKED_CUSTOMERS
        ? `(SELECT count(pg_advisory_xact_lock_shared(hashtext('keepwarm:touch-import'), b::int)) FROM ${blocks})
          + (SELECT count(pg_advisory_xact_lock(hashtext('keepwarm:touch-customer'), (c % 2147483648)::int))
            FROM unnest(${ids}) AS c)`
        : `(SELECT count(pg_advisory_xact_lock(hashtext('keepwarm:touch-import'), b::int)) FROM ${blocks})`;
    return `SELECT ${settings}, ${locks} AS locks,
      ${skipTriggers ? `(SELECT count(*)::int FROM (SELECT 1 FROM customers WHERE id = ANY(${ids}) FOR KEY SHARE) AS locked)` : "NULL::int"} AS locked,
      ${within ? "(SELECT coalesce(max(id), 0) FROM touchpoints)" : "0::bigint"} AS after`;
  };

  /**
   * The batch's writes once its transaction is open and its blocks locked: `touched`
   * (the customers whose rows may be stored already) and, when none is, the ids drawn
   * for every row came with the opening. `copy` holds the rows without an external id,
   * built before the transaction (their ids still to set).
   */
  const writeBatch = async (
    client: pg.PoolClient,
    rows: readonly ImportedTouch[],
    sequence: string,
    copy: CopyRows,
    touched: ReadonlySet<number>,
    drawnWithOpening: Drawn | undefined,
  ): Promise<Written> => {
    const fresh: boolean[] = new Array(rows.length).fill(true);
    const probed: number[] = [];
    const probeCustomers: number[] = [];
    const probeInstants: number[] = [];
    const externalIds: string[] = [];
    rows.forEach((row, r) => {
      if (row.externalId !== null) externalIds.push(row.externalId);
      else if (touched.has(row.customerId)) {
        probed.push(r);
        probeCustomers.push(row.customerId);
        probeInstants.push(row.occurredAt);
      }
    });
    let drawn = drawnWithOpening;
    if (probeCustomers.length > 0) {
      const values = [pgBigintArray(probeCustomers), pgBigintArray(probeInstants)];
      // With external ids the count of new rows waits for their lookup: no draw here (nor when the opening drew).
      const draws = externalIds.length === 0 && drawn === undefined;
      const stored = await client.query<StoredTouch>({
        text: draws ? PROBE_AND_DRAW : PROBE,
        values: draws ? [...values, sequence, rows.length] : values,
        rowMode: "array",
      });
      const draw = draws ? stored.rows.findIndex((row) => row[0] === 0) : -1;
      if (draw >= 0) {
        const [row] = stored.rows.splice(draw, 1);
        drawn = { lo: row?.[4] as number, ids: (row?.[5] ?? null) as string[] | null };
      }
      markStored(rows, probed, stored.rows, fresh);
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
    const external: ExternalRows = { id: [], customerId: [], kind: [], occurredAt: [], loggedBy: [], note: [], externalId: [] };
    const ids: number[] = [];
    /** Per row in `copy`: written (false: stored already). */
    const kept: boolean[] = [];
    let i = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as ImportedTouch;
      if (row.externalId === null) {
        kept.push(fresh[r] as boolean);
        if (!fresh[r]) continue;
        const id = idAt(i++);
        copy.setId(kept.length - 1, id);
        ids.push(id);
        continue;
      }
      if (!fresh[r]) continue;
      const id = idAt(i++);
      external.id.push(id);
      external.customerId.push(row.customerId);
      external.kind.push(row.kind);
      external.occurredAt.push(row.occurredAt);
      external.loggedBy.push(row.loggedBy);
      external.note.push(row.note);
      external.externalId.push(row.externalId);
    }
    if (ids.length > 0) await copyFrom(client, COPY, copy.bytes(ids.length === kept.length ? undefined : kept));
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
      // Built before the transaction, while another batch may hold the blocks' locks: only the ids are set inside it.
      const copy = await CopyRows.of(rows, loggedAt);
      const ranges = customerRanges(rows);
      const drawWithOpening = rows.every((row) => row.externalId === null) ? rows.length : 0;
      let opening = openingOf(settings, skipTriggers, customers, within !== undefined);
      if (ranges.customers.length > 0) opening += `;\n${touchedAndDrawn(sequence, ranges, drawWithOpening)}`;
      const written = await withClientTransaction(
        pool,
        async (client, trx, [opened, checked]) => {
          const [start] = (opened?.rows ?? []) as Array<{ locked: number | null; after: number }>;
          if (skipTriggers && start?.locked !== customers.length) throw new Error("touch import: a customer of this batch was deleted while it was imported");
          const check = checked?.rows[0] as { touched: Array<[number, number[]]> | null; lo: number | null; ids: string[] | null } | undefined;
          const touched = new Set<number>();
          // One file's own earlier touches are no duplicates (see touchedAndDrawn): the ledger knows them.
          for (const [customer, ids] of check?.touched ?? [])
            if (!oneFile || ids.length >= LISTED || !ids.every((id) => ledger.has("touchpoints", id))) touched.add(customer);
          const drawn = check?.lo === null || check?.lo === undefined ? undefined : { lo: check.lo, ids: check.ids };
          const result = await writeBatch(client, rows, sequence, copy, touched, drawn);
          // Recorded before the commit: the next batch of these customers may hear of its opening
          // first (it waits for this commit, not for Node). Should the commit fail, taking the ids
          // back deletes nothing.
          if (!dryRun) addRuns(ledger, result.ids);
          await within?.(trx, Number(start?.after ?? 0));
          if (dryRun) throw new RollBack(result);
          // touch.created for exactly the rows this batch inserted, in its transaction.
          await emitTouchEvents(trx, result.ids, loggedAt);
          return result;
        },
        opening,
      );
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

/**
 * The write of a few customers' rows, or of an API batch, as one call of the function
 * keepwarm_write_touches (migration 2026-12-04T01-00): its statements are planned once
 * per connection. Its result: the highest touch id before the write, the ids inserted
 * (ascending), the places of the rows found stored; no row when it declined to write alone.
 */
const WRITE_TOUCHES = `SELECT after_id, ids, skipped FROM keepwarm_write_touches($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::bigint[],
  $6::text[], $7::text[], $8::text[], $9::int[], $10::int[], $11::bigint, $12::bigint, $13::text[])`;

interface WriteTouchesRow {
  after_id: number;
  ids: Array<number | string> | null;
  skipped: number[] | null;
}

/** The function's locks and rows (without its alone_at and live statuses); marks repeats of an external id in `fresh`. */
function writeArguments(rows: readonly ImportedTouch[], customers: readonly number[], loggedAt: number, fresh: boolean[]): unknown[] {
  const few = customers.length <= FEW_CUSTOMERS;
  let blocks: number[];
  if (few) blocks = [...new Set(customers.map((c) => Math.floor(c / CUSTOMER_BLOCK)))];
  else {
    blocks = [];
    for (let b = Math.floor((customers[0] as number) / CUSTOMER_BLOCK); b <= Math.floor((customers[customers.length - 1] as number) / CUSTOMER_BLOCK); b++)
      blocks.push(b);
  }
  const c = columnsOf(rows, fresh);
  return [few ? customers : null, blocks, c.customerId, c.kind, c.occurredAt, c.loggedBy, c.note, c.externalId, c.occurrence, c.index, loggedAt];
}

/** The function's row into `fresh`; the highest touch id before the write and the ids inserted. */
function applyWrite(row: WriteTouchesRow, fresh: boolean[]): Written & { after: number } {
  for (const index of row.skipped ?? []) fresh[index] = false;
  return { after: Number(row.after_id), ids: (row.ids ?? []).map(Number), fresh };
}

/** A write of a few customers' rows, or an API batch, in a transaction of its own (see the module's comment). */
async function writeFew(
  db: Db,
  rows: readonly ImportedTouch[],
  customers: readonly number[],
  { loggedAt, dryRun, keepSettings }: { loggedAt: number; dryRun: boolean; keepSettings: boolean },
  within: Parameters<BulkTouchWriter["write"]>[1],
): Promise<Written> {
  const fresh: boolean[] = new Array(rows.length).fill(true);
  const args = [...writeArguments(rows, customers, loggedAt, fresh), null, null];
  const transaction = writeTransaction(db, async (trx) => {
    if (!keepSettings) await sql`SET LOCAL synchronous_commit = off`.execute(trx);
    const result = await trx.executeQuery<WriteTouchesRow>(CompiledQuery.raw(WRITE_TOUCHES, args));
    const { after, ids } = applyWrite(result.rows[0] as WriteTouchesRow, fresh);
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

/**
 * A single event's whole transaction in one round trip: a few customers' rows written
 * as writeFew does, and their customers queued for evaluation at `now`
 * (queueEvaluationOfTouchesAfter). Undefined, with nothing written, when more is to
 * do than that (a touch.created webhook listens, or a live contact nudge of these
 * customers may be resolved) or the rows are too many: the caller then writes in a
 * transaction of its own. Returns per row: written (true) or already present.
 */
export async function writeTouchesAlone(pool: pg.Pool, rows: readonly ImportedTouch[], now: number): Promise<boolean[] | undefined> {
  const customers = [...new Set(rows.map((row) => row.customerId))].sort((a, b) => a - b);
  if (rows.length === 0 || rows.length > FEW_ROWS || customers.length > FEW_CUSTOMERS) return undefined;
  const fresh: boolean[] = new Array(rows.length).fill(true);
  const values = [...writeArguments(rows, customers, now, fresh), now, LIVE_STATUSES];
  // Named: each connection parses and plans the call once (kysely sends every statement unnamed).
  const row = (await pool.query<WriteTouchesRow>({ name: "keepwarm_write_touches", text: WRITE_TOUCHES, values })).rows[0];
  return row === undefined ? undefined : applyWrite(row, fresh).fresh;
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

/** COPY's binary signature, flags and header extension length. */
const COPY_HEADER = Buffer.from("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", "latin1");
/** Rows built between two looks at the event loop: a batch being built does not hold up the other batch's replies. */
const ROWS_PER_TURN = 2048;

/**
 * The COPY data (binary format) of a batch's rows without an external id, built before
 * its transaction with every id 0: once the ids are drawn, each is set in place (a
 * field of fixed width), so the transaction waits for no building. Binary, as that
 * needs no escaping and no number turned into text; the server's CPU is the same.
 */
class CopyRows {
  private buffer: Buffer;
  private length = COPY_HEADER.length;
  /** Where each row starts, and (last) where the rows end. */
  private readonly starts: number[] = [];

  private constructor(rows: number) {
    this.buffer = Buffer.allocUnsafe(COPY_HEADER.length + rows * 128 + 2);
    COPY_HEADER.copy(this.buffer);
  }

  static async of(rows: readonly ImportedTouch[], loggedAt: number): Promise<CopyRows> {
    const copy = new CopyRows(rows.length);
    for (let r = 0; r < rows.length; r++) {
      if (r % ROWS_PER_TURN === ROWS_PER_TURN - 1) await new Promise((resolve) => setImmediate(resolve));
      const row = rows[r] as ImportedTouch;
      if (row.externalId === null) copy.add(row, loggedAt);
    }
    copy.starts.push(copy.length);
    return copy;
  }

  private add(row: ImportedTouch, loggedAt: number): void {
    // 2 for the field count, 12 per bigint, 4 + at most 3 bytes per UTF-16 unit per text, 2 for the trailer.
    const most = 2 + 4 * 12 + 4 * 4 + 3 * (row.kind.length + (row.note?.length ?? 0) + (row.loggedBy?.length ?? 0) + 6) + 2;
    if (this.length + most > this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + most));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    const b = this.buffer;
    this.starts.push(this.length);
    let at = b.writeInt16BE(8, this.length);
    at = writePgBigint(b, at, 0);
    at = writePgBigint(b, at, row.customerId);
    at = text(b, at, row.kind);
    at = writePgBigint(b, at, row.occurredAt);
    at = writePgBigint(b, at, loggedAt);
    at = text(b, at, row.loggedBy);
    at = text(b, at, row.note);
    this.length = text(b, at, "import");
  }

  /** Set the id of the nth row added (after its field count and the id's length). */
  setId(n: number, id: number): void {
    writePgBigint(this.buffer, (this.starts[n] as number) + 2, id);
  }

  /** The data to send: every row, or those `kept` says (by the order added). */
  bytes(kept?: readonly boolean[]): Buffer {
    if (kept === undefined) {
      this.buffer.writeInt16BE(-1, this.length);
      return this.buffer.subarray(0, this.length + 2);
    }
    const out = Buffer.allocUnsafe(this.length + 2);
    let at = COPY_HEADER.copy(out);
    for (let n = 0; n < kept.length; n++) if (kept[n]) at += this.buffer.copy(out, at, this.starts[n], this.starts[n + 1]);
    at = out.writeInt16BE(-1, at);
    return out.subarray(0, at);
  }
}

/** A text field of binary COPY: its length in bytes (-1: NULL), then its UTF-8. */
function text(buffer: Buffer, at: number, value: string | null): number {
  if (value === null) return buffer.writeInt32BE(-1, at);
  const length = buffer.write(value, at + 4);
  buffer.writeInt32BE(length, at);
  return at + 4 + length;
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
