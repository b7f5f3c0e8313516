import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Calendar } from "@keepwarm/rules";
import {
  type BulkTouchWriter,
  type CustomerUpsert,
  type CustomerLookups,
  customerIdRange,
  customerLookups,
  type Db,
  findCustomerById,
  type ImportedTouch,
  ImportLedger,
  maxTouchId,
  type NewNpsResponse,
  type NewPurchase,
  openBulkTouchWriter,
  queueEvaluation,
  ownerDirectory,
  resolveNudgesByTouchesAfter,
  type Store,
  TOUCH_KINDS,
  TouchOccurrences,
  undoImport,
  upsertCustomers,
  writeTransaction,
} from "@keepwarm/store";
import type { z } from "zod";
import { UserError } from "../errors";
import { type ColumnPlan, planColumns } from "./columns";
import { type CsvDialect, describeDialect, MalformedCsvError, readCsv } from "./csv-reader";
import { type DateFormat, readDate } from "./date-format";
import { COLUMNS, DATE_COLUMNS, type ImportKind } from "./kinds";
import type { ColumnMapping } from "./mapping";
import { OwnerResolver } from "./owners";
import { CUSTOMER_COLUMNS, checkNps, checkTouch, csvAttributes, customerUpsertOf, PurchaseKeys, RowProblem } from "./row-checks";
import { customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";
import { CheckedRows, type CheckedRowsOptions, type RowCodec, Spool } from "./spool";
import { fastTouch, type TouchValues } from "./touch-fast-path";
import { cooldownUntil } from "../dates";
import { type CheckedInserts, writeCheckedInserts } from "./write-checked";

export interface RowError {
  file: string;
  line: number;
  message: string;
}

export interface ImportReport {
  kind: ImportKind;
  file: string;
  /** The file's separator and line endings, as detected (and described: "semicolon-separated, CRLF line endings"). */
  dialect: (CsvDialect & { description: string }) | null;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Every invalid row, by line, however many (the CLI prints the first 50). */
  invalid: RowError[];
  committed: boolean;
  /** A dry run: every count is what the import would do; nothing was kept. */
  dryRun: boolean;
  resolvedNudges: number;
  warnings: string[];
  /** How the columns were read: attributes, ignored columns. */
  notes: string[];
  /** Owners (emails, names) no Slack member is known for, with how many rows named each. */
  unresolvedOwners: Array<{ owner: string; rows: number }>;
  /** Dry run: a few rows per outcome (customers: external ids; other kinds: the customer's id and the row). */
  samples: { inserted: string[]; updated: string[]; unchanged: string[] };
}

/** "checking": reading and validating the file (nothing written yet); "writing": rows written so far. */
export type ImportStage = "checking" | "writing";

export interface ImportOptions {
  skipInvalid?: boolean;
  now?: number;
  onProgress?: (rows: number, stage: ImportStage) => void;
  /** Which file column is which keepwarm column (--map, --mapping). */
  mapping?: ColumnMapping | undefined;
  /** How numeric day/month dates are read (default iso: refused, with the option to pass). */
  dateFormat?: DateFormat;
  /** Check everything and count what would be written, in transactions that are rolled back. */
  dryRun?: boolean;
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
/** External ids a dry run lists per outcome. */
const SAMPLES = 3;
/** Thrown to roll a dry run's transaction back. */
const ROLLBACK = Symbol("dry run");
const UTC = new Calendar("UTC");

/** A checked row, or its problem's message (the CSV names the line, not the field). */
const orMessage = <Row>(checked: Row | RowProblem): Row | string => (checked instanceof RowProblem ? checked.message : checked);

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
 * A dry run does steps 1 and 2 with every write transaction rolled back instead of
 * committed, so its counts come from the same code (a row repeated in two batches of
 * one file counts as new in both, as neither batch is kept).
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
  let bytes: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UserError(`${file} is not a file`);
    bytes = info.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  const now = options.now ?? Date.now();
  const report: ImportReport = {
    kind,
    file,
    dialect: null,
    rows: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    invalid: [],
    committed: false,
    dryRun: options.dryRun === true,
    resolvedNudges: 0,
    warnings: [],
    notes: [],
    unresolvedOwners: [],
    samples: { inserted: [], updated: [], unchanged: [] },
  };
  const checked = await checkFile(store, kind, file, bytes, now, report, options, await writeOrder(store.db, kind));
  try {
    if (report.invalid.length > 0 && !options.skipInvalid && !options.dryRun) return report;
    await writeRows(store, kind, checked, now, report, options);
    report.committed = !options.dryRun;
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
  check(value: T, customerId: number | null, fields: string[], line: number): Row | string;
  /**
   * Parse and check in one step, for a row that needs nothing looked up (its customer
   * already known): the row as written, or why it is invalid; undefined sends the row
   * down the general path (parse, look up, check). The same answers as that path.
   */
  direct?(fields: string[], customers: CustomerIds): Row | string | undefined;
  codec: RowCodec<Row>;
}

/** Step 1: read and check the whole file, keeping the rows to write; writes nothing. */
async function checkFile(
  store: Store,
  kind: ImportKind,
  file: string,
  bytes: number,
  now: number,
  report: ImportReport,
  options: ImportOptions,
  order: CheckedRowsOptions<unknown>,
): Promise<CheckedRows<unknown>> {
  const customers = new CustomerIds(customerLookups(store));
  if (kind !== "customers") await customers.preload(Math.floor(bytes / ROW_BYTES));
  const owners = kind === "customers" ? new OwnerResolver(await ownerDirectory(store.db)) : undefined;
  // 64 KiB reads: each chunk's text then stays under V8's large-object size (128 KiB), so it is
  // allocated in the young generation's recycled pages; 256 KiB chunks each took fresh pages
  // (three per chunk: the read buffer, its text, the text joined to the previous tail), ≈ 15 % more CPU.
  const source = createReadStream(file, { highWaterMark: 65536 });
  let header: string[] | undefined;
  let rows: RowKind<object, unknown> | undefined;
  let checked: CheckedRows<unknown> | undefined;
  let dates: ((fields: string[]) => string | undefined) | undefined;
  let direct: RowKind<object, unknown>["direct"];
  const fail = (line: number, message: string) => {
    report.invalid.push({ file, line, message: detach(message) });
  };
  const onDialect = (dialect: CsvDialect) => {
    report.dialect = { ...dialect, description: describeDialect(dialect) };
  };
  try {
    // A chunk at a time: parse its rows, look up their customers in one query, then check them in line order.
    const values: Array<object | string> = [];
    const lines: number[] = [];
    const cells: string[][] = [];
    /** Each row's customer row id, once known (undefined: look it up first; null: unknown customer). */
    const ids: Array<number | null | undefined> = [];
    for await (const records of readCsv(source, { onDialect })) {
      values.length = 0;
      lines.length = 0;
      cells.length = 0;
      ids.length = 0;
      // Rows are checked in one step until one needs its customer looked up; from there on, the
      // rest of the chunk waits for that lookup (so rows are kept, and problems reported, in line order).
      let deferred = false;
      for (const { fields, line } of records) {
        if (fields.length === 1 && fields[0] === "") continue;
        if (header === undefined || rows === undefined || checked === undefined) {
          header = fields.map(detach);
          const plan = planColumns(kind, file, header, options.mapping);
          report.notes.push(...plan.notes);
          rows = rowKind(kind, plan, now, options.calendar ?? UTC, owners);
          dates = dateReader(kind, plan, options.dateFormat ?? "iso");
          direct = dates === undefined ? rows.direct : undefined;
          checked = new CheckedRows(rows.codec, order);
          continue;
        }
        report.rows++;
        if (options.onProgress !== undefined && report.rows % 50_000 === 0) options.onProgress(report.rows, "checking");
        if (!deferred) {
          const row = direct !== undefined && fields.length === header.length ? direct(fields, customers) : undefined;
          if (row !== undefined) {
            if (typeof row === "string") fail(line, row);
            else checked.add(row);
            continue;
          }
          deferred = true;
        }
        const value =
          fields.length !== header.length ? `has ${fields.length} fields, the header has ${header.length}` : (dates?.(fields) ?? rows.parse(fields));
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
        const row = rows.check(value, id, cells[i] as string[], lines[i] as number);
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
  if (owners !== undefined) report.unresolvedOwners = [...owners.unresolved].map(([owner, rows]) => ({ owner, rows }));
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
  const dryRun = options.dryRun === true;
  /** A write transaction, rolled back in a dry run (its result still counted). */
  const transaction = async <T>(fn: (trx: Db) => Promise<T>): Promise<T> => {
    if (!dryRun) return writeTransaction(store.db, fn);
    let result: T | undefined;
    await writeTransaction(store.db, async (trx) => {
      result = await fn(trx);
      throw ROLLBACK;
    }).catch((error: unknown) => {
      if (error !== ROLLBACK) throw error;
    });
    return result as T;
  };
  const samples = new RowSamples();
  try {
    if (kind === "touches") {
      const after = await maxTouchId(store.db);
      const writer = await openBulkTouchWriter(store, { loggedAt: now, ledger, dryRun, oneFile: true });
      touches = writer;
      // Identical rows share a customer, so a partition (customer id range) holds all of them: count them per partition.
      const occurrences = new TouchOccurrences();
      // Queued for evaluation at the end: a set of at most every customer, where a look at the new
      // touches (a scan of them and a DISTINCT over them) cost about a tenth of the import.
      const touched = new Set<number>();
      let partitionNow = 0;
      await (checked as CheckedRows<ImportedTouch>).inBatches(
        batchRows,
        async (rows) => {
          const result = await writer.write(rows);
          report.inserted += result.inserted;
          report.unchanged += result.unchanged;
          if (dryRun) samples.add(rows, result.fresh, describeTouch);
          else for (let i = 0; i < rows.length; i++) if (result.fresh[i]) touched.add((rows[i] as ImportedTouch).customerId);
          await committed(rows.length);
        },
        writer.parallel,
        {
          each(row, partition) {
            if (partition !== partitionNow) {
              occurrences.clear();
              partitionNow = partition;
            }
            occurrences.number(row);
          },
          // The nth of a content is new only while fewer than n are stored: its earlier ones must be written first.
          alone: (rows) => rows.some((row) => (row.occurrence ?? 1) > 1),
        },
      );
      touches = undefined;
      await writer.close();
      if (!dryRun) {
        const resolved = await writeTransaction(store.db, async (trx) => {
          await queueEvaluation(trx, touched, now);
          return resolveNudgesByTouchesAfter(trx, after, now, cooldownUntil(now, options.calendar ?? UTC));
        });
        report.resolvedNudges = resolved.length;
      }
    } else if (kind === "customers") {
      await (checked as CheckedRows<CustomerUpsert>).inBatches(Math.min(batchRows, CUSTOMER_BATCH_ROWS), async (rows) => {
        const changes = await transaction((trx) => upsertCustomers(trx, rows, now));
        if (!dryRun) ledger.addCustomers(changes);
        changes.outcomes.forEach((outcome, i) => {
          report[outcome]++;
          if (report.samples[outcome].length < SAMPLES) report.samples[outcome].push((rows[i] as CustomerUpsert).externalId);
        });
        await committed(rows.length);
      });
    } else {
      const table = kind === "nps" ? "nps_responses" : "purchases";
      await checked.inBatches(batchRows, async (rows) => {
        const written = await transaction((trx) => writeCheckedInserts(trx, { kind, rows } as CheckedInserts, now));
        if (dryRun) samples.add(rows as Array<NewNpsResponse | NewPurchase>, written.fresh, describeInsert);
        else ledger.addIds(table, written.ids);
        report.inserted += written.ids.length;
        report.unchanged += rows.length - written.ids.length;
        await committed(rows.length);
      });
    }
    if (dryRun) await samples.into(store.db, report);
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

/**
 * A dry run's sample rows of touches, NPS responses and purchases: the first few that
 * would be created and that are already present, named by customer id as in the file.
 */
class RowSamples {
  private readonly picked: Array<{ outcome: "inserted" | "unchanged"; customerId: number; text: string }> = [];
  private readonly counts = { inserted: 0, unchanged: 0 };

  add<Row>(rows: readonly Row[], fresh: readonly boolean[], describe: (row: Row) => { customerId: number; text: string }): void {
    for (let i = 0; i < rows.length; i++) {
      const outcome = fresh[i] ? "inserted" : "unchanged";
      if (this.counts[outcome] >= SAMPLES) {
        if (this.counts.inserted >= SAMPLES && this.counts.unchanged >= SAMPLES) return;
        continue;
      }
      this.counts[outcome]++;
      this.picked.push({ outcome, ...describe(rows[i] as Row) });
    }
  }

  async into(db: Db, report: ImportReport): Promise<void> {
    for (const { outcome, customerId, text } of this.picked) {
      const customer = await findCustomerById(db, customerId);
      report.samples[outcome].push(`${customer?.external_id ?? `#${customerId}`} ${text}`);
    }
  }
}

const isoOf = (at: number) => new Date(at).toISOString().replace(/\.000Z$/, "Z");
const quoted = (text: string | null | undefined) =>
  text === null || text === undefined ? "" : ` ${JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text)}`;

const describeTouch = (row: ImportedTouch) => ({
  customerId: row.customerId,
  text: `${isoOf(row.occurredAt)} ${row.kind}${quoted(row.note)}${row.loggedBy === null ? "" : ` by ${row.loggedBy}`}${row.externalId === null ? "" : ` (external_id ${row.externalId})`}`,
});

const describeInsert = (row: NewNpsResponse | NewPurchase) =>
  "score" in row
    ? {
        customerId: row.customer_id,
        text: `${isoOf(row.responded_at)} score ${row.score}${quoted(row.comment)}${row.external_id ? ` (external_id ${row.external_id})` : ""}`,
      }
    : { customerId: row.customer_id, text: `${isoOf(row.occurred_at)} amount ${((row.amount_cents ?? 0) / 100).toFixed(2)}` };

/** Bytes per row of a touches, NPS or purchases file, generously: few rows are longer, so a file has at least its bytes / ROW_BYTES rows, about. */
const ROW_BYTES = 100;
/** Customer ids CustomerIds remembers at most. */
const KNOWN_IDS = 2_000_000;

/** Customer row ids by external id, looked up a chunk of rows at a time and remembered (up to KNOWN_IDS ids). */
class CustomerIds {
  private readonly known = new Map<string, number | null>();
  private readonly missing = new Set<string>();
  constructor(private readonly lookups: CustomerLookups) {}

  /**
   * Every customer's id at once, when there are at most `limit` customers (the file's rows, about):
   * such a file looks most of them up anyway, and a row whose customer is known is checked in one
   * step, where a row with an unknown one holds the rest of its chunk until the lookup.
   */
  async preload(limit: number): Promise<void> {
    if (limit < 1) return;
    const all = await this.lookups.allIds(Math.min(limit, KNOWN_IDS));
    if (all !== undefined) for (const [externalId, id] of all) this.known.set(externalId, id);
  }

  /** The row id (null: no such customer), or undefined when not looked up yet: then `resolve` looks it up. */
  peek(externalId: string): number | null | undefined {
    const id = this.known.get(externalId);
    if (id === undefined) this.missing.add(externalId);
    return id;
  }

  /** Look up every id `peek` did not know. */
  async resolve(): Promise<void> {
    if (this.missing.size === 0) return;
    const missing = [...this.missing];
    this.missing.clear();
    if (this.known.size + missing.length > KNOWN_IDS) this.known.clear();
    const found = await this.lookups.idsByExternalIds(missing);
    for (const id of missing) this.known.set(detach(id), found.get(id) ?? null);
  }

  get(externalId: string): number | null {
    return this.known.get(externalId) ?? null;
  }

  /** The row id (null: no such customer), or undefined when not looked up yet (and then not queued for `resolve`). */
  ifKnown(externalId: string): number | null | undefined {
    return this.known.get(externalId);
  }
}

/**
 * A copy of a string that does not point into the chunk it was cut from (V8 keeps a
 * slice's whole parent alive): for strings kept past their chunk, so memory stays flat.
 */
const detach = (text: string): string => ` ${text}`.slice(1);

/**
 * Day/month dates read as --date-format says, in place, before a row is parsed: an
 * error for the row, or undefined. With iso (the default) there is nothing to do
 * here: the ISO parser refuses a numeric day/month date and names the option.
 */
function dateReader(kind: ImportKind, plan: ColumnPlan, format: DateFormat): ((fields: string[]) => string | undefined) | undefined {
  if (format === "iso") return undefined;
  const columns = DATE_COLUMNS[kind].map((name) => [name, plan.names.indexOf(name)] as const).filter(([, index]) => index >= 0);
  return (fields) => {
    for (const [name, index] of columns) {
      const read = readDate(fields[index] as string, format);
      if ("error" in read) return `${name}: ${read.error}`;
      fields[index] = read.iso;
    }
    return undefined;
  };
}

/** The rows of a kind as {column: cell} for zod (keepwarm columns), plus (customers) the attributes. */
function cellsOf(plan: ColumnPlan): (fields: string[]) => { cells: Record<string, string>; extra: Record<string, string> } {
  const { names, known } = plan;
  return (fields) => {
    const cells: Record<string, string> = {};
    // No prototype: a column named __proto__ is an attribute like any other.
    const extra: Record<string, string> = Object.create(null);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === null || name === undefined) continue;
      if (known.has(name)) cells[name] = fields[i] ?? "";
      else extra[name] = fields[i] ?? "";
    }
    return { cells, extra };
  };
}

function rowKind(kind: ImportKind, plan: ColumnPlan, now: number, calendar: Calendar, owners: OwnerResolver | undefined): RowKind<object, unknown> {
  switch (kind) {
    case "touches":
      return touchRows(plan, now, calendar) as RowKind<object, unknown>;
    case "nps":
      return npsRows(plan, calendar) as RowKind<object, unknown>;
    case "purchases":
      return purchaseRows(plan, calendar) as RowKind<object, unknown>;
    case "customers":
      return customerRows(plan, calendar, owners as OwnerResolver) as RowKind<object, unknown>;
  }
}

/** A kind's index in TOUCH_KINDS, compared in a loop: the kinds are few, and a Map lookup per row hashed the string. */
function kindCode(kind: string): number {
  for (let i = 0; i < TOUCH_KINDS.length; i++) if (TOUCH_KINDS[i] === kind) return i;
  throw new Error(`touch import: unknown kind ${JSON.stringify(kind)}`);
}

const touchCodec: RowCodec<ImportedTouch> = {
  bytes: (row) => 17 + Spool.textBytes(row.note) + Spool.textBytes(row.loggedBy) + Spool.textBytes(row.externalId),
  write(spool, row) {
    spool.number(row.customerId);
    spool.number(row.occurredAt);
    spool.byte(kindCode(row.kind));
    spool.text(row.note);
    spool.text(row.loggedBy);
    spool.text(row.externalId);
  },
  read: (reader) => ({
    customerId: reader.number(),
    occurredAt: reader.number(),
    kind: TOUCH_KINDS[reader.byte()] as string,
    note: reader.text(),
    loggedBy: reader.text(),
    externalId: reader.text(),
  }),
};

function touchRows(plan: ColumnPlan, now: number, calendar: Calendar): RowKind<TouchValues, ImportedTouch> {
  const columns = {
    customerId: plan.names.indexOf("customer_id"),
    occurredAt: plan.names.indexOf("occurred_at"),
    kind: plan.names.indexOf("kind"),
    note: plan.names.indexOf("note"),
    loggedBy: plan.names.indexOf("logged_by"),
    externalId: plan.names.indexOf("external_id"),
  };
  const cells = cellsOf(plan);
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
        externalId: data.external_id ?? null,
      };
    },
    customerOf: (row) => row.customerId,
    check: (row, customerId, fields) => orMessage(checkTouch(row, customerId, now, fields[columns.occurredAt] ?? "")),
    direct(fields, customers) {
      const fast = fastTouch(fields, columns, calendar);
      if (fast === undefined) return undefined;
      const customerId = customers.ifKnown(fast.customerId);
      return customerId === undefined ? undefined : orMessage(checkTouch(fast, customerId, now, fields[columns.occurredAt] ?? ""));
    },
    codec: touchCodec,
  };
}

const npsCodec: RowCodec<NewNpsResponse> = {
  bytes: (row) => 24 + Spool.textBytes(row.comment ?? null) + Spool.textBytes(row.external_id ?? null),
  write(spool, row) {
    spool.number(row.customer_id);
    spool.number(row.score);
    spool.number(row.responded_at);
    spool.text(row.comment ?? null);
    spool.text(row.external_id ?? null);
  },
  read: (reader) => ({
    customer_id: reader.number(),
    score: reader.number(),
    responded_at: reader.number(),
    comment: reader.text(),
    external_id: reader.text(),
  }),
};

function npsRows(plan: ColumnPlan, calendar: Calendar): RowKind<z.infer<ReturnType<typeof npsRow>>, NewNpsResponse> {
  const cells = cellsOf(plan);
  const schema = npsRow(calendar);
  return {
    parse(fields) {
      const parsed = schema.safeParse(cells(fields).cells);
      return parsed.success ? parsed.data : issueText(parsed.error);
    },
    customerOf: (row) => row.customer_id,
    check: (row, customerId) => orMessage(checkNps(row, customerId)),
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

/**
 * A purchase's identity is PurchaseKeys' (row-checks.ts), per file. The count of
 * identical rows is kept per file in memory (purchase files are small; the touches
 * import is the one with a flat-memory target).
 */
function purchaseRows(plan: ColumnPlan, calendar: Calendar): RowKind<z.infer<ReturnType<typeof purchaseRow>>, NewPurchase> {
  const cells = cellsOf(plan);
  const schema = purchaseRow(calendar);
  const keys = new PurchaseKeys();
  return {
    parse(fields) {
      const parsed = schema.safeParse(cells(fields).cells);
      return parsed.success ? parsed.data : issueText(parsed.error);
    },
    customerOf: (row) => row.customer_id,
    check: (row, customerId, _fields, line) => orMessage(keys.check(row, customerId, line)),
    codec: purchaseCodec,
  };
}

const customerCodec: RowCodec<CustomerUpsert> = {
  bytes: (row) => Spool.textBytes(JSON.stringify(row)),
  write: (spool, row) => spool.text(JSON.stringify(row)),
  read: (reader) => JSON.parse(reader.text() as string) as CustomerUpsert,
};

function customerRows(plan: ColumnPlan, calendar: Calendar, owners: OwnerResolver): RowKind<CustomerUpsert, CustomerUpsert> {
  const cells = cellsOf(plan);
  const schema = customerRow(calendar);
  // Only the columns the file has are set: a file without `tier` leaves every tier as it is.
  const present = CUSTOMER_COLUMNS.filter(([csv]) => plan.names.includes(csv));
  const hasOwner = plan.names.includes("owner");
  return {
    parse(fields) {
      const { cells: known, extra } = cells(fields);
      const parsed = schema.safeParse(known);
      if (!parsed.success) return issueText(parsed.error);
      const row = parsed.data as Parameters<typeof customerUpsertOf>[0] & { owner?: string | null };
      const upsert = customerUpsertOf(row, present, csvAttributes(extra));
      if (hasOwner) Object.assign(upsert.fields, owners.resolve(row.owner ?? ""));
      return upsert;
    },
    check: (row) => row,
    codec: customerCodec,
  };
}
