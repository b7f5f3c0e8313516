import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Store } from "@keepwarm/store";
import { closest } from "@keepwarm/rules";
import type { z } from "zod";
import { UserError } from "../errors";
import { resolveNudgesByTouches } from "../touches";
import { MalformedCsvError, readCsv } from "./csv-reader";
import { COLUMNS, type ImportKind } from "./kinds";
import { attributeValue, customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";
import { TouchInserter } from "./touch-dedupe";
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

export interface ImportOptions {
  skipInvalid?: boolean;
  now?: number;
  onProgress?: (rows: number) => void;
  /** Stop collecting row errors after this many (the import still fails as a whole). */
  maxErrors?: number;
}

const dedupeKey = (parts: Array<string | number | null | undefined>): string =>
  createHash("sha1")
    .update(parts.map((p) => (p === null || p === undefined ? "" : String(p))).join("\u001f"))
    .digest("base64url");

const issueText = (error: z.ZodError): string =>
  error.issues.map((issue) => (issue.code === "custom" || issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)).join("; ");

/**
 * Import one CSV file of one kind. Streams the file (memory stays flat in its size),
 * validates every row against its zod schema (touches through a fast path that gives
 * the same answers, see touch-fast-path.ts), and writes in a single transaction: all or
 * nothing unless skipInvalid. Customers are upserted by id; NPS responses are unique
 * per customer and instant, purchases carry a dedupe key, touches are compared on their
 * exact content (touch-dedupe.ts): re-importing a file adds nothing twice.
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
  const maxErrors = options.maxErrors ?? 1000;
  const report: ImportReport = { kind, file, rows: 0, inserted: 0, updated: 0, unchanged: 0, invalid: [], committed: false, resolvedNudges: 0, warnings: [] };
  const source = createReadStream(file, { highWaterMark: 262144 });
  const sqlite = store.sqlite;
  const customerIds = new Map<string, number | null>();
  const customerIdStatement = sqlite.prepare("SELECT id FROM customers WHERE external_id = ?").pluck();
  const customerId = (externalId: string): number | null => {
    let id = customerIds.get(externalId);
    if (id === undefined) {
      id = (customerIdStatement.get(externalId) as number | undefined) ?? null;
      if (customerIds.size < 2_000_000) customerIds.set(detach(externalId), id);
    }
    return id;
  };
  const maxTouchBefore = (sqlite.prepare("SELECT coalesce(max(id), 0) FROM touchpoints").pluck().get() as number) ?? 0;
  const sink: Sink = {
    tally: (outcome) => {
      report[outcome]++;
    },
    error: (line, message) => addError(report, maxErrors, { line, message }),
  };

  let header: string[] | undefined;
  let writer: Writer | undefined;
  // For the duration of the import, then handed back as they were: a page cache of the
  // import's size class, and no foreign-key checks, which made the 64-row touch inserts
  // ≈ 2.5 × as costly (touchpoints is a child of customers and a parent of nudges).
  // Safe: every customer id written was just read from customers in this transaction,
  // and an insert orphans nothing. (A no-op inside a transaction: set before BEGIN.)
  const cacheSize = Number(sqlite.pragma("cache_size", { simple: true }));
  const foreignKeys = Number(sqlite.pragma("foreign_keys", { simple: true }));
  try {
    sqlite.pragma("foreign_keys = OFF");
    sqlite.exec("BEGIN IMMEDIATE");
    sqlite.pragma("cache_size = -65536");
    for await (const records of readCsv(source)) {
      for (const { fields, line } of records) {
        if (fields.length === 1 && fields[0] === "") continue;
        if (header === undefined || writer === undefined) {
          header = fields.map((h) => h.trim().toLowerCase());
          checkHeader(kind, header, report);
          writer = rowWriter(store, kind, header, customerId, now, sink);
          continue;
        }
        report.rows++;
        if (options.onProgress !== undefined && report.rows % 50_000 === 0) options.onProgress(report.rows);
        if (fields.length !== header.length) {
          sink.error(line, `has ${fields.length} fields, the header has ${header.length}`);
          continue;
        }
        writer.write(fields, line);
      }
    }
    if (header === undefined || writer === undefined) throw new UserError(`${file} is empty: expected a header row (${COLUMNS[kind].required.join(", ")}, …)`);
    writer.flush();
    if (report.invalid.length > 0 && !options.skipInvalid) {
      sqlite.exec("ROLLBACK");
      return report;
    }
    if (kind === "touches") report.resolvedNudges = resolveNudgesByTouches(store, maxTouchBefore, now).length;
    sqlite.exec("COMMIT");
    report.committed = true;
    return report;
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
    if (error instanceof MalformedCsvError) throw new UserError(`${file}: ${error.message}`);
    throw error;
  } finally {
    source.destroy();
    sqlite.pragma(`cache_size = ${cacheSize}`);
    sqlite.pragma(`foreign_keys = ${foreignKeys}`);
  }
}

/**
 * A copy of a string that does not point into the chunk it was cut from (V8 keeps a
 * slice's whole parent alive): for strings kept past their chunk, so memory stays flat.
 */
const detach = (text: string): string => ` ${text}`.slice(1);

function addError(report: ImportReport, maxErrors: number, error: RowError): void {
  if (report.invalid.length < maxErrors) report.invalid.push({ line: error.line, message: detach(error.message) });
  else if (report.invalid.length === maxErrors) report.invalid.push({ line: error.line, message: "… more errors not shown" });
}

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

interface Sink {
  tally(outcome: "inserted" | "updated" | "unchanged"): void;
  error(line: number, message: string): void;
}

/** Writes the rows of one kind; outcomes and row errors go to the sink (touches are written in batches). */
interface Writer {
  write(fields: string[], line: number): void;
  flush(): void;
}

type RowOutcome = "inserted" | "updated" | "unchanged" | string;

/** The per-row zod path: a row as {column: cell} (known columns) plus the other columns. */
function cellWriter(
  kind: ImportKind,
  header: string[],
  sink: Sink,
  writeRow: (cells: Record<string, string>, extra: Record<string, string>) => RowOutcome,
): Writer {
  const known = new Set([...COLUMNS[kind].required, ...COLUMNS[kind].optional]);
  const isKnown = header.map((name) => known.has(name));
  return {
    write(fields, line) {
      const cells: Record<string, string> = {};
      const extra: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) {
        if (isKnown[i]) cells[header[i] as string] = fields[i] ?? "";
        else extra[header[i] as string] = fields[i] ?? "";
      }
      const outcome = writeRow(cells, extra);
      if (outcome === "inserted" || outcome === "updated" || outcome === "unchanged") sink.tally(outcome);
      else sink.error(line, outcome);
    },
    flush() {},
  };
}

function touchWriter(store: Store, header: string[], customerId: (externalId: string) => number | null, now: number, sink: Sink): Writer {
  const columns = {
    customerId: header.indexOf("customer_id"),
    occurredAt: header.indexOf("occurred_at"),
    kind: header.indexOf("kind"),
    note: header.indexOf("note"),
    loggedBy: header.indexOf("logged_by"),
  };
  const inserter = new TouchInserter(store, now, sink.tally);
  const cellsOf = (fields: string[]): Record<string, string> => Object.fromEntries(header.map((name, i) => [name, fields[i] ?? ""]));
  return {
    write(fields, line) {
      let row: TouchValues | undefined = fastTouch(fields, columns);
      if (row === undefined) {
        // zod decides (and words the reason) whenever the fast checks do not pass.
        const parsed = touchRow.safeParse(cellsOf(fields));
        if (!parsed.success) return sink.error(line, issueText(parsed.error));
        const data = parsed.data;
        row = {
          customerId: data.customer_id,
          occurredAt: data.occurred_at,
          kind: data.kind ?? "other",
          note: data.note ?? null,
          loggedBy: data.logged_by ?? null,
        };
      }
      const id = customerId(row.customerId);
      if (id === null) return sink.error(line, `unknown customer "${row.customerId}" (import customers first)`);
      if (row.occurredAt > now + 5 * 60_000) return sink.error(line, `occurred_at ${fields[columns.occurredAt]} is in the future`);
      inserter.add(id, row);
    },
    flush: () => inserter.flush(),
  };
}

function rowWriter(store: Store, kind: ImportKind, header: string[], customerId: (externalId: string) => number | null, now: number, sink: Sink): Writer {
  if (kind === "touches") return touchWriter(store, header, customerId, now, sink);
  return cellWriter(kind, header, sink, rowFunction(store, kind, header, customerId, now));
}

function rowFunction(
  store: Store,
  kind: Exclude<ImportKind, "touches">,
  header: string[],
  customerId: (externalId: string) => number | null,
  now: number,
): (cells: Record<string, string>, extra: Record<string, string>) => RowOutcome {
  const sqlite = store.sqlite;
  switch (kind) {
    case "customers": {
      const present = (name: string) => header.includes(name);
      const mapping: Array<[string, string]> = [
        ["segment", "segment"],
        ["lifecycle_stage", "lifecycle_stage"],
        ["owner_slack_id", "owner_slack_id"],
        ["tier", "tier"],
        ["since", "since_at"],
        ["renewal_date", "renewal_at"],
        ["loyalty_member", "loyalty_member"],
        ["churned_at", "churned_at"],
      ];
      const columns = mapping.filter(([csv]) => present(csv));
      const insert = sqlite.prepare(
        `INSERT INTO customers (external_id, name, ${columns.map(([, col]) => `${col}, `).join("")}attributes, created_at, updated_at)
         VALUES (@id, @name, ${columns.map(([csv]) => `@${csv}, `).join("")}@attributes, @now, @now)`,
      );
      const update = sqlite.prepare(
        `UPDATE customers SET name = @name, ${columns.map(([csv, col]) => `${col} = @${csv}, `).join("")}
           attributes = json_patch(attributes, @attributes), updated_at = @now
         WHERE external_id = @id AND (name IS NOT @name ${columns.map(([csv, col]) => `OR ${col} IS NOT @${csv} `).join("")}
           OR attributes IS NOT json_patch(attributes, @attributes))`,
      );
      const exists = sqlite.prepare("SELECT 1 FROM customers WHERE external_id = ?").pluck();
      return (cells, extra) => {
        const parsed = customerRow.safeParse(cells);
        if (!parsed.success) return issueText(parsed.error);
        const row = parsed.data;
        const attributes: Record<string, unknown> = {};
        for (const [name, raw] of Object.entries(extra)) attributes[name] = attributeValue(raw);
        const params: Record<string, unknown> = { id: row.id, name: row.name, attributes: JSON.stringify(attributes), now };
        for (const [csv] of columns) params[csv] = (row as Record<string, unknown>)[csv] ?? (csv === "loyalty_member" ? 0 : null);
        if (exists.get(row.id) === undefined) {
          // json_patch drops nulls on update; an insert must not store them either.
          params.attributes = JSON.stringify(Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null)));
          insert.run(params);
          return "inserted";
        }
        return update.run(params).changes > 0 ? "updated" : "unchanged";
      };
    }
    case "nps": {
      const insert = sqlite.prepare(
        "INSERT INTO nps_responses (customer_id, score, responded_at, comment) VALUES (?, ?, ?, ?) ON CONFLICT (customer_id, responded_at) DO NOTHING",
      );
      return (cells) => {
        const parsed = npsRow.safeParse(cells);
        if (!parsed.success) return issueText(parsed.error);
        const row = parsed.data;
        const id = customerId(row.customer_id);
        if (id === null) return `unknown customer "${row.customer_id}" (import customers first)`;
        return insert.run(id, row.score, row.responded_at, row.comment ?? null).changes > 0 ? "inserted" : "unchanged";
      };
    }
    case "purchases": {
      const insert = sqlite.prepare("INSERT OR IGNORE INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, ?, ?)");
      return (cells) => {
        const parsed = purchaseRow.safeParse(cells);
        if (!parsed.success) return issueText(parsed.error);
        const row = parsed.data;
        const id = customerId(row.customer_id);
        if (id === null) return `unknown customer "${row.customer_id}" (import customers first)`;
        const cents = row.amount ?? 0;
        return insert.run(id, row.occurred_at, cents, dedupeKey([row.customer_id, row.occurred_at, cents])).changes > 0 ? "inserted" : "unchanged";
      };
    }
  }
}
