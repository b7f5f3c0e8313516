import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Calendar, closest } from "@keepwarm/rules";
import {
  type BulkTouchWriter,
  type CustomerUpsert,
  customerIdRange,
  customerIdsByExternalIds,
  type Db,
  type ImportedTouch,
  ImportLedger,
  insertNpsResponses,
  insertPurchases,
  maxTouchId,
  type NewNpsResponse,
  type NewPurchase,
  openBulkTouchWriter,
  resolveNudgesByTouchesAfter,
  type Store,
  TOUCH_KINDS,
  undoImport,
  upsertCustomers,
  writeTransaction,
} from "@keepwarm/store";
import type { z } from "zod";
import { UserError } from "../errors";
import { MalformedCsvError, readCsv } from "./csv-reader";
import { COLUMNS, type ImportKind } from "./kinds";
import { attributeValue, customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";
import { CheckedRows, type CheckedRowsOptions, type RowCodec, Spool } from "./spool";
import { fastTouch, type TouchValues } from "./touch-fast-path";

export interface RowError {
  line: number;
  message: string;
}

export interface ImportReport {
  kind: ImportKind;
  file: string;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  invalid: RowError[];
  committed: boolean;
  resolvedNudges: number;
  warnings: string[];
}

/** "checking": reading and validating the file (nothing written yet); "writing": rows written so far. */
export type ImportStage = "checking" | "writing";

export interface ImportOptions {
  skipInvalid?: boolean;
  now?: number;
  onProgress?: (rows: number, stage: ImportStage) => void;
  /** Stop collecting row errors after this many (the import still fails as a whole). */
  maxErrors?: number;
  /** Rows per write transaction (default 10,000; customers at most 1,000). */
  batchRows?: number;
  /** KEEPWARM_TZ: a bare date (2026-03-01) is that calendar day there; default UTC. */
  calendar?: Calendar;
  /** Test hook: runs after each committed batch; a throw fails the import, which then takes back what it wrote. */
  afterBatch?: (batch: number) => void | Promise<void>;
}

/**
 * Rows per write transaction: ≈ 50 ms of SQLite's write lock at the import's rate.
 * Larger batches measured slower, not faster (25,000: about a fifth more time for
 * 300k touches), probably as their rows outlive the garbage collector's young space.
 */
const BATCH_ROWS = 10_000;
const CUSTOMER_BATCH_ROWS = 1000;
const FUTURE_SLACK_MS = 5 * 60_000;
const UTC = new Calendar("UTC");

const dedupeKey = (parts: Array<string | number | null | undefined>): string =>
  createHash("sha1")
    .update(parts.map((p) => (p === null || p === undefined ? "" : String(p))).join("\u001f"))
    .digest("base64url");

const issueText = (error: z.ZodError): string =>
  error.issues.map((issue) => (issue.code === "custom" || issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)).join("; ");

/**
 * Import one CSV file of one kind: all or nothing (unless skipInvalid), and without
 * holding the database's write lock for more than a fraction of a second at a time.
 *
 * 1. Check: stream the file (memory stays flat in its size), validate every row
 *    against its zod schema (touches through a fast path that gives the same answers,
 *    see touch-fast-path.ts), look up its customer, and keep the valid rows in a spool
 *    (a temporary file). Nothing is written yet: a bad row costs nothing to undo.
 * 2. Write the spooled rows in short transactions of `batchRows` rows. One transaction
 *    for the whole file held SQLite's write lock for 13–17 s on a million touches, so a
 *    sweep in another process failed with "database is locked" and /touch waited 15 s;
 *    a batch holds it for tens of milliseconds.
 * 3. Touches: resolve the nudges the new touches answer, in one transaction.
 *
 * If a write fails after a batch has committed, the import takes back exactly what it
 * wrote (undoImport: its rows deleted by id, updated customers restored), so the user
 * sees all or nothing. As every row was checked first, only a fault gets there (disk
 * full, a lost connection), never a bad row. The price of short transactions: other
 * readers can see the batches committed so far, and a process killed mid-import
 * leaves them; re-running the file then adds only the rest, since a re-import adds
 * nothing twice (customers are upserted by id, NPS responses are unique per customer
 * and instant, purchases carry a dedupe key, touches are compared on their exact
 * content in the store's bulk writer).
 */
export async function importCsv(store: Store, kind: ImportKind, file: string, options: ImportOptions = {}): Promise<ImportReport> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UserError(`${file} is not a file`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  const now = options.now ?? Date.now();
  const report: ImportReport = { kind, file, rows: 0, inserted: 0, updated: 0, unchanged: 0, invalid: [], committed: false, resolvedNudges: 0, warnings: [] };
  const checked = await checkFile(store.db, kind, file, now, report, options, await writeOrder(store.db, kind));
  try {
    if (report.invalid.length > 0 && !options.skipInvalid) return report;
    await writeRows(store, kind, checked, now, report, options);
    report.committed = true;
    return report;
  } finally {
    checked.close();
  }
}

/** How one kind's rows are read, checked and kept until written. */
interface RowKind<T extends object, Row> {
  /** The row's value, or why it is invalid. */
  parse(fields: string[]): T | string;
  /** The customer external id a row refers to (kinds that need one). */
  customerOf?(value: T): string;
  /** The row as it will be written (with its customer's row id), or why it cannot be imported. */
  check(value: T, customerId: number | null, fields: string[]): Row | string;
  codec: RowCodec<Row>;
}

/** Step 1: read and check the whole file, keeping the rows to write; writes nothing. */
async function checkFile(
  db: Db,
  kind: ImportKind,
  file: string,
  now: number,
  report: ImportReport,
  options: ImportOptions,
  order: CheckedRowsOptions<unknown>,
): Promise<CheckedRows<unknown>> {
  const maxErrors = options.maxErrors ?? 1000;
  const customers = new CustomerIds(db);
  const source = createReadStream(file, { highWaterMark: 262144 });
  let header: string[] | undefined;
  let rows: RowKind<object, unknown> | undefined;
  let checked: CheckedRows<unknown> | undefined;
  const fail = (line: number, message: string) => {
    if (report.invalid.length < maxErrors) report.invalid.push({ line, message: detach(message) });
    else if (report.invalid.length === maxErrors) report.invalid.push({ line, message: "… more errors not shown" });
  };
  try {
    // A chunk at a time: parse its rows, look up their customers in one query, then check them in line order.
    const values: Array<object | string> = [];
    const lines: number[] = [];
    const cells: string[][] = [];
    /** Each row's customer row id, once known (undefined: look it up first; null: unknown customer). */
    const ids: Array<number | null | undefined> = [];
    for await (const records of readCsv(source)) {
      values.length = 0;
      lines.length = 0;
      cells.length = 0;
      ids.length = 0;
      for (const { fields, line } of records) {
        if (fields.length === 1 && fields[0] === "") continue;
        if (header === undefined || rows === undefined || checked === undefined) {
          header = fields.map((h) => h.trim().toLowerCase());
          checkHeader(kind, header, report);
          rows = rowKind(kind, header, now, options.calendar ?? UTC);
          checked = new CheckedRows(rows.codec, order);
          continue;
        }
        report.rows++;
        if (options.onProgress !== undefined && report.rows % 50_000 === 0) options.onProgress(report.rows, "checking");
        const value = fields.length === header.length ? rows.parse(fields) : `has ${fields.length} fields, the header has ${header.length}`;
        ids.push(typeof value !== "string" && rows.customerOf !== undefined ? customers.peek(rows.customerOf(value)) : null);
        values.push(value);
        lines.push(line);
        cells.push(fields);
      }
      if (rows === undefined || checked === undefined) continue;
      const customerOf = rows.customerOf;
      await customers.resolve();
      for (let i = 0; i < values.length; i++) {
        const value = values[i] as object | string;
        if (typeof value === "string") {
          fail(lines[i] as number, value);
          continue;
        }
        const id = ids[i] === undefined && customerOf !== undefined ? customers.get(customerOf(value)) : (ids[i] ?? null);
        const row = rows.check(value, id, cells[i] as string[]);
        if (typeof row === "string") fail(lines[i] as number, row);
        else checked.add(row);
      }
    }
  } catch (error) {
    checked?.close();
    if (error instanceof MalformedCsvError) throw new UserError(`${file}: ${error.message}`);
    throw error;
  } finally {
    source.destroy();
  }
  if (checked === undefined) throw new UserError(`${file} is empty: expected a header row (${COLUMNS[kind].required.join(", ")}, …)`);
  return checked;
}

/** Customer id ranges the touches of an import are written in, one range after the other. */
const TOUCH_PARTITIONS = 64;

/**
 * The order rows are written in. Touches go by customer id range, each range in the
 * file's order: a short transaction then changes only the pages of
 * touchpoints_customer_time (customer_id, occurred_at) that hold its range. Written in
 * the file's order, every 10,000-row transaction dirtied most of that index (touches
 * of every customer), and each commit wrote it all to the WAL again: about a third
 * more time than one big transaction at 300k rows, growing with the table. A
 * customer's touches stay in the file's order, so ids still follow it per customer.
 */
async function writeOrder(db: Db, kind: ImportKind): Promise<CheckedRowsOptions<unknown>> {
  if (kind !== "touches") return {};
  const { min, max } = await customerIdRange(db);
  const width = Math.max(1, Math.ceil((max - min + 1) / TOUCH_PARTITIONS));
  return {
    partitions: TOUCH_PARTITIONS,
    partitionOf: (row) => Math.min(TOUCH_PARTITIONS - 1, Math.max(0, Math.floor(((row as ImportedTouch).customerId - min) / width))),
  };
}

/** Steps 2 and 3: write the checked rows in short transactions; on a failure, take back what was written. */
async function writeRows(
  store: Store,
  kind: ImportKind,
  checked: CheckedRows<unknown>,
  now: number,
  report: ImportReport,
  options: ImportOptions,
): Promise<void> {
  const ledger = new ImportLedger();
  const batchRows = Math.max(1, options.batchRows ?? BATCH_ROWS);
  let batches = 0;
  let written = 0;
  const committed = async (rows: number) => {
    batches++;
    written += rows;
    options.onProgress?.(written, "writing");
    await options.afterBatch?.(batches);
  };
  let touches: BulkTouchWriter | undefined;
  try {
    if (kind === "touches") {
      const after = await maxTouchId(store.db);
      const writer = await openBulkTouchWriter(store, { loggedAt: now, ledger });
      touches = writer;
      await (checked as CheckedRows<ImportedTouch>).inBatches(
        batchRows,
        async (rows) => {
          const result = await writer.write(rows);
          report.inserted += result.inserted;
          report.unchanged += result.unchanged;
          await committed(rows.length);
        },
        writer.parallel,
      );
      touches = undefined;
      await writer.close();
      const resolved = await writeTransaction(store.db, (trx) => resolveNudgesByTouchesAfter(trx, after, now));
      report.resolvedNudges = resolved.length;
    } else if (kind === "customers") {
      await (checked as CheckedRows<CustomerUpsert>).inBatches(Math.min(batchRows, CUSTOMER_BATCH_ROWS), async (rows) => {
        const changes = await writeTransaction(store.db, (trx) => upsertCustomers(trx, rows, now));
        ledger.addCustomers(changes);
        for (const outcome of changes.outcomes) report[outcome]++;
        await committed(rows.length);
      });
    } else {
      const table = kind === "nps" ? "nps_responses" : "purchases";
      await checked.inBatches(batchRows, async (rows) => {
        const ids = await writeTransaction(store.db, (trx) =>
          kind === "nps" ? insertNpsResponses(trx, rows as NewNpsResponse[]) : insertPurchases(trx, rows as NewPurchase[]),
        );
        ledger.addIds(table, ids);
        report.inserted += ids.length;
        report.unchanged += rows.length - ids.length;
        await committed(rows.length);
      });
    }
  } catch (error) {
    await touches?.close();
    try {
      await undoImport(store.db, ledger);
    } catch (undoError) {
      throw new Error(
        `import of ${report.file} failed (${(error as Error).message}) and taking back its ${written} written rows failed too (${(undoError as Error).message}); re-run the import to complete it`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Customer row ids by external id, looked up a chunk of rows at a time and remembered (up to 2M ids). */
class CustomerIds {
  private readonly known = new Map<string, number | null>();
  private readonly missing = new Set<string>();
  constructor(private readonly db: Db) {}

  /** The row id (null: no such customer), or undefined when not looked up yet: then `resolve` looks it up. */
  peek(externalId: string): number | null | undefined {
    const id = this.known.get(externalId);
    if (id === undefined) this.missing.add(externalId);
    return id;
  }

  /** Look up every id `peek` did not know, in one query per 500. */
  async resolve(): Promise<void> {
    if (this.missing.size === 0) return;
    const missing = [...this.missing];
    this.missing.clear();
    if (this.known.size + missing.length > 2_000_000) this.known.clear();
    const found = await customerIdsByExternalIds(this.db, missing);
    for (const id of missing) this.known.set(detach(id), found.get(id) ?? null);
  }

  get(externalId: string): number | null {
    return this.known.get(externalId) ?? null;
  }
}

/**
 * A copy of a string that does not point into the chunk it was cut from (V8 keeps a
 * slice's whole parent alive): for strings kept past their chunk, so memory stays flat.
 */
const detach = (text: string): string => ` ${text}`.slice(1);

function checkHeader(kind: ImportKind, header: string[], report: ImportReport): void {
  const { required, optional } = COLUMNS[kind];
  const all = [...required, ...optional];
  const seen = new Set<string>();
  for (const name of header) {
    if (name === "") throw new UserError("line 1: a header column is empty");
    if (seen.has(name)) throw new UserError(`line 1: column "${name}" appears twice`);
    seen.add(name);
    if (!all.includes(name)) {
      const guess = closest(name, all);
      if (kind !== "customers") {
        throw new UserError(`line 1: unknown column "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; ${kind} columns are ${all.join(", ")}`);
      }
      if (guess !== undefined) report.warnings.push(`column "${name}" is imported as an attribute; did you mean "${guess}"?`);
    }
  }
  const missing = required.filter((name) => !seen.has(name));
  if (missing.length > 0) throw new UserError(`line 1: missing required column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}`);
}

const unknownCustomer = (externalId: string) => `unknown customer "${externalId}" (import customers first)`;

/** The rows of a kind as {column: cell} for zod (known columns), plus the other columns. */
function cellsOf(kind: ImportKind, header: string[]): (fields: string[]) => { cells: Record<string, string>; extra: Record<string, string> } {
  const known = new Set([...COLUMNS[kind].required, ...COLUMNS[kind].optional]);
  const isKnown = header.map((name) => known.has(name));
  return (fields) => {
    const cells: Record<string, string> = {};
    const extra: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) {
      if (isKnown[i]) cells[header[i] as string] = fields[i] ?? "";
      else extra[header[i] as string] = fields[i] ?? "";
    }
    return { cells, extra };
  };
}

function rowKind(kind: ImportKind, header: string[], now: number, calendar: Calendar): RowKind<object, unknown> {
  switch (kind) {
    case "touches":
      return touchRows(header, now, calendar) as RowKind<object, unknown>;
    case "nps":
      return npsRows(header, calendar) as RowKind<object, unknown>;
    case "purchases":
      return purchaseRows(header, calendar) as RowKind<object, unknown>;
    case "customers":
      return customerRows(header, calendar) as RowKind<object, unknown>;
  }
}

const KIND_CODE = new Map<string, number>(TOUCH_KINDS.map((k, i) => [k, i]));

const touchCodec: RowCodec<ImportedTouch> = {
  bytes: (row) => 17 + Spool.textBytes(row.note) + Spool.textBytes(row.loggedBy),
  write(spool, row) {
    spool.number(row.customerId);
    spool.number(row.occurredAt);
    spool.byte(KIND_CODE.get(row.kind) as number);
    spool.text(row.note);
    spool.text(row.loggedBy);
  },
  read: (reader) => ({
    customerId: reader.number(),
    occurredAt: reader.number(),
    kind: TOUCH_KINDS[reader.byte()] as string,
    note: reader.text(),
    loggedBy: reader.text(),
  }),
};

function touchRows(header: string[], now: number, calendar: Calendar): RowKind<TouchValues, ImportedTouch> {
  const columns = {
    customerId: header.indexOf("customer_id"),
    occurredAt: header.indexOf("occurred_at"),
    kind: header.indexOf("kind"),
    note: header.indexOf("note"),
    loggedBy: header.indexOf("logged_by"),
  };
  const cells = cellsOf("touches", header);
  const schema = touchRow(calendar);
  return {
    parse(fields) {
      const fast = fastTouch(fields, columns, calendar);
      if (fast !== undefined) return fast;
      // zod decides (and words the reason) whenever the fast checks do not pass.
      const parsed = schema.safeParse(cells(fields).cells);
      if (!parsed.success) return issueText(parsed.error);
      const data = parsed.data;
      return {
        customerId: data.customer_id,
        occurredAt: data.occurred_at,
        kind: data.kind ?? "other",
        note: data.note ?? null,
        loggedBy: data.logged_by ?? null,
      };
    },
    customerOf: (row) => row.customerId,
    check(row, customerId, fields) {
      if (customerId === null) return unknownCustomer(row.customerId);
      if (row.occurredAt > now + FUTURE_SLACK_MS) return `occurred_at ${fields[columns.occurredAt]} is in the future`;
      return { customerId, occurredAt: row.occurredAt, kind: row.kind, note: row.note, loggedBy: row.loggedBy };
    },
    codec: touchCodec,
  };
}

const npsCodec: RowCodec<NewNpsResponse> = {
  bytes: (row) => 24 + Spool.textBytes(row.comment ?? null),
  write(spool, row) {
    spool.number(row.customer_id);
    spool.number(row.score);
    spool.number(row.responded_at);
    spool.text(row.comment ?? null);
  },
  read: (reader) => ({ customer_id: reader.number(), score: reader.number(), responded_at: reader.number(), comment: reader.text() }),
};

function npsRows(header: string[], calendar: Calendar): RowKind<z.infer<ReturnType<typeof npsRow>>, NewNpsResponse> {
  const cells = cellsOf("nps", header);
  const schema = npsRow(calendar);
  return {
    parse(fields) {
      const parsed = schema.safeParse(cells(fields).cells);
      return parsed.success ? parsed.data : issueText(parsed.error);
    },
    customerOf: (row) => row.customer_id,
    check(row, customerId) {
      if (customerId === null) return unknownCustomer(row.customer_id);
      return { customer_id: customerId, score: row.score, responded_at: row.responded_at, comment: row.comment ?? null };
    },
    codec: npsCodec,
  };
}

const purchaseCodec: RowCodec<NewPurchase> = {
  bytes: (row) => 24 + Spool.textBytes(row.dedupe_key),
  write(spool, row) {
    spool.number(row.customer_id);
    spool.number(row.occurred_at);
    spool.number(row.amount_cents ?? 0);
    spool.text(row.dedupe_key);
  },
  read: (reader) => ({ customer_id: reader.number(), occurred_at: reader.number(), amount_cents: reader.number(), dedupe_key: reader.text() as string }),
};

function purchaseRows(header: string[], calendar: Calendar): RowKind<z.infer<ReturnType<typeof purchaseRow>>, NewPurchase> {
  const cells = cellsOf("purchases", header);
  const schema = purchaseRow(calendar);
  return {
    parse(fields) {
      const parsed = schema.safeParse(cells(fields).cells);
      return parsed.success ? parsed.data : issueText(parsed.error);
    },
    customerOf: (row) => row.customer_id,
    check(row, customerId) {
      if (customerId === null) return unknownCustomer(row.customer_id);
      const cents = row.amount ?? 0;
      return { customer_id: customerId, occurred_at: row.occurred_at, amount_cents: cents, dedupe_key: dedupeKey([row.customer_id, row.occurred_at, cents]) };
    },
    codec: purchaseCodec,
  };
}

/** CSV column → stored column, for the optional customer columns. */
const CUSTOMER_COLUMNS = [
  ["segment", "segment"],
  ["lifecycle_stage", "lifecycle_stage"],
  ["owner_slack_id", "owner_slack_id"],
  ["tier", "tier"],
  ["since", "since_at"],
  ["renewal_date", "renewal_at"],
  ["loyalty_member", "loyalty_member"],
  ["churned_at", "churned_at"],
] as const;

const customerCodec: RowCodec<CustomerUpsert> = {
  bytes: (row) => Spool.textBytes(JSON.stringify(row)),
  write: (spool, row) => spool.text(JSON.stringify(row)),
  read: (reader) => JSON.parse(reader.text() as string) as CustomerUpsert,
};

function customerRows(header: string[], calendar: Calendar): RowKind<CustomerUpsert, CustomerUpsert> {
  const cells = cellsOf("customers", header);
  const schema = customerRow(calendar);
  // Only the columns the file has are set: a file without `tier` leaves every tier as it is.
  const present = CUSTOMER_COLUMNS.filter(([csv]) => header.includes(csv));
  return {
    parse(fields) {
      const { cells: known, extra } = cells(fields);
      const parsed = schema.safeParse(known);
      if (!parsed.success) return issueText(parsed.error);
      const row = parsed.data as Record<string, unknown> & { id: string; name: string };
      // No prototype: a column named __proto__ is an attribute like any other.
      const upsert: CustomerUpsert = { externalId: row.id, name: row.name, fields: {}, attributes: Object.create(null) };
      const stored = upsert.fields as Record<string, unknown>;
      for (const [csv, column] of present) stored[column] = row[csv] ?? (csv === "loyalty_member" ? 0 : null);
      for (const [name, raw] of Object.entries(extra)) upsert.attributes[name] = attributeValue(raw);
      return upsert;
    },
    check: (row) => row,
    codec: customerCodec,
  };
}
