import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { closest } from "@keepwarm/rules";
import {
  type BulkTouchWriter,
  type CustomerUpsert,
  customerIdsByExternalIds,
  type Db,
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
  type TouchRows,
  undoImport,
  upsertCustomers,
  writeTransaction,
} from "@keepwarm/store";
import type { z } from "zod";
import { UserError } from "../errors";
import { MalformedCsvError, readCsv } from "./csv-reader";
import { COLUMNS, type ImportKind } from "./kinds";
import { attributeValue, customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";
import { Spool } from "./spool";
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
  /** Test hook: runs after each committed batch; a throw fails the import, which then takes back what it wrote. */
  afterBatch?: (batch: number) => void | Promise<void>;
}

const BATCH_ROWS = 10_000;
const CUSTOMER_BATCH_ROWS = 1000;
const FUTURE_SLACK_MS = 5 * 60_000;

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
  const spool = new Spool();
  try {
    await checkFile(store.db, kind, file, now, spool, report, options);
    if (report.invalid.length > 0 && !options.skipInvalid) return report;
    await writeSpool(store, kind, spool, now, report, options);
    report.committed = true;
    return report;
  } finally {
    spool.close();
  }
}

/** A parsed row: its value, or why it is invalid. */
type Parsed<T> = { value: T } | { error: string };

/** How one kind's rows are read, checked and spooled. */
interface RowKind<T> {
  parse(fields: string[]): Parsed<T>;
  /** The customer external id a row refers to (kinds that need one). */
  customerOf?(value: T): string;
  /** Spool a valid row (with its customer's row id), or say why it cannot be imported. */
  spool(value: T, customerId: number | null, fields: string[]): string | undefined;
}

/** Step 1: read and check the whole file, spooling the valid rows; writes nothing. */
async function checkFile(db: Db, kind: ImportKind, file: string, now: number, spool: Spool, report: ImportReport, options: ImportOptions): Promise<void> {
  const maxErrors = options.maxErrors ?? 1000;
  const customers = new CustomerIds(db);
  const source = createReadStream(file, { highWaterMark: 262144 });
  let header: string[] | undefined;
  let rows: RowKind<unknown> | undefined;
  const fail = (line: number, message: string) => {
    if (report.invalid.length < maxErrors) report.invalid.push({ line, message: detach(message) });
    else if (report.invalid.length === maxErrors) report.invalid.push({ line, message: "… more errors not shown" });
  };
  try {
    for await (const records of readCsv(source)) {
      // A chunk at a time: parse its rows, look up their customers in one query, then check them in line order.
      const parsed: Array<{ line: number; fields: string[]; result: Parsed<unknown> }> = [];
      for (const { fields, line } of records) {
        if (fields.length === 1 && fields[0] === "") continue;
        if (header === undefined || rows === undefined) {
          header = fields.map((h) => h.trim().toLowerCase());
          checkHeader(kind, header, report);
          rows = rowKind(kind, header, now, spool);
          continue;
        }
        report.rows++;
        if (options.onProgress !== undefined && report.rows % 50_000 === 0) options.onProgress(report.rows, "checking");
        const result: Parsed<unknown> =
          fields.length === header.length ? rows.parse(fields) : { error: `has ${fields.length} fields, the header has ${header.length}` };
        parsed.push({ line, fields, result });
      }
      if (rows === undefined) continue;
      const customerOf = rows.customerOf;
      if (customerOf !== undefined) await customers.resolve(parsed.flatMap(({ result }) => ("value" in result ? [customerOf(result.value)] : [])));
      for (const { line, fields, result } of parsed) {
        if ("error" in result) {
          fail(line, result.error);
          continue;
        }
        const problem = rows.spool(result.value, customerOf === undefined ? null : customers.get(customerOf(result.value)), fields);
        if (problem !== undefined) fail(line, problem);
      }
    }
  } catch (error) {
    if (error instanceof MalformedCsvError) throw new UserError(`${file}: ${error.message}`);
    throw error;
  } finally {
    source.destroy();
  }
  if (header === undefined) throw new UserError(`${file} is empty: expected a header row (${COLUMNS[kind].required.join(", ")}, …)`);
}

/** Steps 2 and 3: write the spooled rows in short transactions; on a failure, take back what was written. */
async function writeSpool(store: Store, kind: ImportKind, spool: Spool, now: number, report: ImportReport, options: ImportOptions): Promise<void> {
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
      touches = await openBulkTouchWriter(store, { loggedAt: now, ledger });
      const writer = touches;
      const batch: TouchRows = { customerId: [], occurredAt: [], kind: [], note: [], loggedBy: [] };
      const flush = async () => {
        const result = await writer.write(batch);
        report.inserted += result.inserted;
        report.unchanged += result.unchanged;
        const rows = batch.customerId.length;
        for (const column of Object.values(batch)) column.length = 0;
        await committed(rows);
      };
      for (const row of spool.read()) {
        batch.customerId.push(row.number());
        batch.occurredAt.push(row.number());
        batch.kind.push(TOUCH_KINDS[row.byte()] as string);
        batch.note.push(row.text());
        batch.loggedBy.push(row.text());
        if (batch.customerId.length === batchRows) await flush();
      }
      if (batch.customerId.length > 0) await flush();
      await touches.close();
      touches = undefined;
      const resolved = await writeTransaction(store.db, (trx) => resolveNudgesByTouchesAfter(trx, after, now));
      report.resolvedNudges = resolved.length;
      return;
    }
    if (kind === "customers") {
      let batch: CustomerUpsert[] = [];
      const flush = async () => {
        const changes = await writeTransaction(store.db, (trx) => upsertCustomers(trx, batch, now));
        ledger.addCustomers(changes);
        for (const outcome of changes.outcomes) report[outcome]++;
        const rows = batch.length;
        batch = [];
        await committed(rows);
      };
      for (const row of spool.read()) {
        batch.push(JSON.parse(row.text() as string) as CustomerUpsert);
        if (batch.length === Math.min(batchRows, CUSTOMER_BATCH_ROWS)) await flush();
      }
      if (batch.length > 0) await flush();
      return;
    }
    const table = kind === "nps" ? "nps_responses" : "purchases";
    let batch: Array<NewNpsResponse | NewPurchase> = [];
    const flush = async () => {
      const rows = batch;
      const ids = await writeTransaction(store.db, (trx) =>
        kind === "nps" ? insertNpsResponses(trx, rows as NewNpsResponse[]) : insertPurchases(trx, rows as NewPurchase[]),
      );
      ledger.addIds(table, ids);
      report.inserted += ids.length;
      report.unchanged += rows.length - ids.length;
      batch = [];
      await committed(rows.length);
    };
    for (const row of spool.read()) {
      batch.push(
        kind === "nps"
          ? { customer_id: row.number(), score: row.number(), responded_at: row.number(), comment: row.text() }
          : { customer_id: row.number(), occurred_at: row.number(), amount_cents: row.number(), dedupe_key: row.text() as string },
      );
      if (batch.length === batchRows) await flush();
    }
    if (batch.length > 0) await flush();
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
  constructor(private readonly db: Db) {}

  async resolve(externalIds: readonly string[]): Promise<void> {
    const missing = [...new Set(externalIds.filter((id) => !this.known.has(id)))];
    if (missing.length === 0) return;
    if (this.known.size + missing.length > 2_000_000) this.known.clear();
    const found = await customerIdsByExternalIds(this.db, missing);
    for (const id of missing) this.known.set(detach(id), found.get(id) ?? null);
  }

  /** After resolve: the row id, or null for an unknown customer. */
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

function rowKind(kind: ImportKind, header: string[], now: number, spool: Spool): RowKind<unknown> {
  switch (kind) {
    case "touches":
      return touchRows(header, now, spool) as RowKind<unknown>;
    case "nps":
      return npsRows(header, spool) as RowKind<unknown>;
    case "purchases":
      return purchaseRows(header, spool) as RowKind<unknown>;
    case "customers":
      return customerRows(header, spool) as RowKind<unknown>;
  }
}

const KIND_CODE = new Map<string, number>(TOUCH_KINDS.map((k, i) => [k, i]));

function touchRows(header: string[], now: number, spool: Spool): RowKind<TouchValues> {
  const columns = {
    customerId: header.indexOf("customer_id"),
    occurredAt: header.indexOf("occurred_at"),
    kind: header.indexOf("kind"),
    note: header.indexOf("note"),
    loggedBy: header.indexOf("logged_by"),
  };
  const cells = cellsOf("touches", header);
  return {
    parse(fields) {
      const fast = fastTouch(fields, columns);
      if (fast !== undefined) return { value: fast };
      // zod decides (and words the reason) whenever the fast checks do not pass.
      const parsed = touchRow.safeParse(cells(fields).cells);
      if (!parsed.success) return { error: issueText(parsed.error) };
      const data = parsed.data;
      return {
        value: {
          customerId: data.customer_id,
          occurredAt: data.occurred_at,
          kind: data.kind ?? "other",
          note: data.note ?? null,
          loggedBy: data.logged_by ?? null,
        },
      };
    },
    customerOf: (row) => row.customerId,
    spool(row, customerId, fields) {
      if (customerId === null) return unknownCustomer(row.customerId);
      if (row.occurredAt > now + FUTURE_SLACK_MS) return `occurred_at ${fields[columns.occurredAt]} is in the future`;
      spool.begin(17 + Spool.textBytes(row.note) + Spool.textBytes(row.loggedBy));
      spool.number(customerId);
      spool.number(row.occurredAt);
      spool.byte(KIND_CODE.get(row.kind) as number);
      spool.text(row.note);
      spool.text(row.loggedBy);
      return undefined;
    },
  };
}

function npsRows(header: string[], spool: Spool): RowKind<z.infer<typeof npsRow>> {
  const cells = cellsOf("nps", header);
  return {
    parse(fields) {
      const parsed = npsRow.safeParse(cells(fields).cells);
      return parsed.success ? { value: parsed.data } : { error: issueText(parsed.error) };
    },
    customerOf: (row) => row.customer_id,
    spool(row, customerId) {
      if (customerId === null) return unknownCustomer(row.customer_id);
      const comment = row.comment ?? null;
      spool.begin(24 + Spool.textBytes(comment));
      spool.number(customerId);
      spool.number(row.score);
      spool.number(row.responded_at);
      spool.text(comment);
      return undefined;
    },
  };
}

function purchaseRows(header: string[], spool: Spool): RowKind<z.infer<typeof purchaseRow>> {
  const cells = cellsOf("purchases", header);
  return {
    parse(fields) {
      const parsed = purchaseRow.safeParse(cells(fields).cells);
      return parsed.success ? { value: parsed.data } : { error: issueText(parsed.error) };
    },
    customerOf: (row) => row.customer_id,
    spool(row, customerId) {
      if (customerId === null) return unknownCustomer(row.customer_id);
      const cents = row.amount ?? 0;
      const key = dedupeKey([row.customer_id, row.occurred_at, cents]);
      spool.begin(24 + Spool.textBytes(key));
      spool.number(customerId);
      spool.number(row.occurred_at);
      spool.number(cents);
      spool.text(key);
      return undefined;
    },
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

function customerRows(header: string[], spool: Spool): RowKind<CustomerUpsert> {
  const cells = cellsOf("customers", header);
  // Only the columns the file has are set: a file without `tier` leaves every tier as it is.
  const present = CUSTOMER_COLUMNS.filter(([csv]) => header.includes(csv));
  return {
    parse(fields) {
      const { cells: known, extra } = cells(fields);
      const parsed = customerRow.safeParse(known);
      if (!parsed.success) return { error: issueText(parsed.error) };
      const row = parsed.data as Record<string, unknown> & { id: string; name: string };
      // No prototype: a column named __proto__ is an attribute like any other.
      const upsert: CustomerUpsert = { externalId: row.id, name: row.name, fields: {}, attributes: Object.create(null) };
      const stored = upsert.fields as Record<string, unknown>;
      for (const [csv, column] of present) stored[column] = row[csv] ?? (csv === "loyalty_member" ? 0 : null);
      for (const [name, raw] of Object.entries(extra)) upsert.attributes[name] = attributeValue(raw);
      return { value: upsert };
    },
    spool(row) {
      const json = JSON.stringify(row);
      spool.begin(Spool.textBytes(json));
      spool.text(json);
      return undefined;
    },
  };
}
