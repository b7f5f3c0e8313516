import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Store } from "@keepwarm/store";
import { closest } from "@keepwarm/rules";
import { CsvError, parse } from "csv-parse";
import type { z } from "zod";
import { UserError } from "../errors";
import { resolveNudgesByTouches } from "../touches";
import { COLUMNS, type ImportKind } from "./kinds";
import { attributeValue, customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";

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
  createHash("sha1").update(parts.map((p) => (p === null || p === undefined ? "" : String(p))).join("\u001f")).digest("base64url");

const issueText = (error: z.ZodError): string =>
  error.issues.map((issue) => (issue.code === "custom" || issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)).join("; ");

/**
 * Import one CSV file of one kind. Streams the file (memory stays flat in its size),
 * validates every row with zod, and writes in a single transaction: all or nothing
 * unless skipInvalid. Customers are upserted by id; other rows carry a dedupe key, so
 * re-importing a file adds nothing twice.
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
  const parser = createReadStream(file).pipe(parse({ bom: true, info: true, relax_column_count: true }));
  const sqlite = store.sqlite;
  const customerIds = new Map<string, number | null>();
  const customerIdStatement = sqlite.prepare("SELECT id FROM customers WHERE external_id = ?").pluck();
  const customerId = (externalId: string): number | null => {
    let id = customerIds.get(externalId);
    if (id === undefined) {
      id = (customerIdStatement.get(externalId) as number | undefined) ?? null;
      if (customerIds.size < 2_000_000) customerIds.set(externalId, id);
    }
    return id;
  };
  const maxTouchBefore = (sqlite.prepare("SELECT coalesce(max(id), 0) FROM touchpoints").pluck().get() as number) ?? 0;

  let header: string[] | undefined;
  let writeRow: ((cells: Record<string, string>, extra: Record<string, string>) => "inserted" | "updated" | "unchanged" | string) | undefined;
  let previousEnd = 0;
  const known = new Set([...COLUMNS[kind].required, ...COLUMNS[kind].optional]);
  // A big import touches index pages all over (dedupe keys are hashes): give it a page
  // cache of its own size class for the duration, then hand the connection back as it was.
  const cacheSize = Number(sqlite.pragma("cache_size", { simple: true }));
  sqlite.exec("BEGIN IMMEDIATE");
  try {
    sqlite.pragma("cache_size = -65536");
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = previousEnd + 1;
      previousEnd = info.lines;
      if (record.length === 1 && record[0] === "") continue;
      if (header === undefined) {
        header = record.map((h) => h.trim().toLowerCase());
        checkHeader(kind, header, report);
        writeRow = rowWriter(store, kind, header, customerId, now);
        continue;
      }
      report.rows++;
      if (options.onProgress !== undefined && report.rows % 50_000 === 0) options.onProgress(report.rows);
      if (record.length !== header.length) {
        addError(report, maxErrors, { line, message: `has ${record.length} fields, the header has ${header.length}` });
        continue;
      }
      const cells: Record<string, string> = {};
      const extra: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) {
        const name = header[i] as string;
        if (known.has(name)) cells[name] = record[i] ?? "";
        else extra[name] = record[i] ?? "";
      }
      const outcome = (writeRow as NonNullable<typeof writeRow>)(cells, extra);
      if (outcome === "inserted") report.inserted++;
      else if (outcome === "updated") report.updated++;
      else if (outcome === "unchanged") report.unchanged++;
      else addError(report, maxErrors, { line, message: outcome });
    }
    if (header === undefined) throw new UserError(`${file} is empty: expected a header row (${COLUMNS[kind].required.join(", ")}, …)`);
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
    if (error instanceof UserError) throw error;
    const csvError = error as { code?: string; lines?: number; message: string };
    // Not every csv-parse code starts with CSV_ (INVALID_OPENING_QUOTE does not): match the class.
    if (error instanceof CsvError) {
      throw new UserError(`${file}: line ${csvError.lines ?? previousEnd + 1}: malformed CSV (${csvError.message.replace(/^.*?: /, "")})`);
    }
    throw error;
  } finally {
    parser.destroy();
    sqlite.pragma(`cache_size = ${cacheSize}`);
  }
}

function addError(report: ImportReport, maxErrors: number, error: RowError): void {
  if (report.invalid.length < maxErrors) report.invalid.push(error);
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

type Writer = (cells: Record<string, string>, extra: Record<string, string>) => "inserted" | "updated" | "unchanged" | string;

function rowWriter(store: Store, kind: ImportKind, header: string[], customerId: (externalId: string) => number | null, now: number): Writer {
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
    case "touches": {
      const insert = sqlite.prepare(
        "INSERT OR IGNORE INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, 'import', ?)",
      );
      return (cells) => {
        const parsed = touchRow.safeParse(cells);
        if (!parsed.success) return issueText(parsed.error);
        const row = parsed.data;
        const id = customerId(row.customer_id);
        if (id === null) return `unknown customer "${row.customer_id}" (import customers first)`;
        if (row.occurred_at > now + 5 * 60_000) return `occurred_at ${cells.occurred_at} is in the future`;
        const kindValue = row.kind ?? "other";
        const key = dedupeKey([row.customer_id, row.occurred_at, kindValue, row.note, row.logged_by]);
        return insert.run(id, kindValue, row.occurred_at, now, row.logged_by ?? null, row.note ?? null, key).changes > 0 ? "inserted" : "unchanged";
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
