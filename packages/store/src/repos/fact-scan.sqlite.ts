import { driverOf, type Store, StoreError } from "../open-store";
import { CUSTOMER_SELECT, type FactRowChunks, type FactScanRow, HISTORY_TABLES, type ScanColumn, toFactScanRow } from "./fact-scan.shared";

/**
 * One correlated subquery per requested column: each walks the (customer_id, time)
 * index of its table, so the cost is a handful of index seeks per customer and never
 * one query per customer — and a column nobody asked for costs nothing.
 */
function columnSql(column: ScanColumn, i: number, params: Record<string, number | string>): string {
  const { table, time, value } = HISTORY_TABLES[column.of];
  const where = [`x.customer_id = c.id`, `x.${time} <= @c${i}_to`];
  params[`c${i}_to`] = column.to;
  if (column.from !== undefined) {
    where.push(`x.${time} >= @c${i}_from`);
    params[`c${i}_from`] = column.from;
  }
  if (column.kinds !== undefined) {
    const names = column.kinds.map((kind, k) => {
      params[`c${i}_k${k}`] = kind;
      return `@c${i}_k${k}`;
    });
    where.push(names.length === 0 ? "0" : `x.kind IN (${names.join(", ")})`);
  }
  const from = `FROM ${table} x WHERE ${where.join(" AND ")}`;
  switch (column.op) {
    case "lastAt":
      return `(SELECT max(x.${time}) ${from})`;
    case "latest":
      return `(SELECT x.${value} ${from} ORDER BY x.${time} DESC, x.id DESC LIMIT 1 OFFSET ${(column.nth ?? 1) - 1})`;
    case "count":
      return `(SELECT count(*) ${from})`;
    case "sum":
      return `(SELECT coalesce(sum(x.${value}), 0) ${from})`;
  }
}

/**
 * A customer exists from `since` (imports are often later than the relationship
 * began) or from when it was added, until it churns.
 */
export function factScanSqlite(columns: readonly ScanColumn[], by: "range" | "ids" = "range"): { sql: string; params: Record<string, number | string> } {
  const params: Record<string, number | string> = {};
  const select = [...CUSTOMER_SELECT.map((name) => `c.${name}`), ...columns.map((column, i) => columnSql(column, i, params))];
  // A chunk of the whole scan (keyset by id), or the customers named by a JSON array (@ids).
  const scope = by === "range" ? "c.id > @after\nORDER BY c.id LIMIT @limit" : "c.id IN (SELECT value FROM json_each(@ids))\nORDER BY c.id";
  const sql = `SELECT ${select.join(",\n  ")}
FROM customers c
WHERE (c.churned_at IS NULL OR c.churned_at > @asOf) AND min(c.created_at, coalesce(c.since_at, c.created_at)) <= @asOf
  AND ${scope}`;
  return { sql, params };
}

/** A rowid range per chunk, one prepared statement for the whole scan, rows as arrays (`.raw()`). */
export function factRowChunksSqlite(store: Store, asOf: number, columns: readonly ScanColumn[]): FactRowChunks {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite") throw new StoreError("not a SQLite store");
  const { sql, params } = factScanSqlite(columns);
  const statement = driver.sqlite.prepare(sql).raw();
  return async (after, limit) => {
    const rows = (statement.all({ ...params, asOf, after, limit }) as unknown[][]).map(toFactScanRow);
    return { rows, next: rows.length < limit ? undefined : (rows[rows.length - 1] as FactScanRow).id };
  };
}

/** The scan's rows of the given customers only (real-time evaluation): the same statement, scoped by id. */
export function factRowsOfSqlite(store: Store, asOf: number, columns: readonly ScanColumn[], customerIds: readonly number[]): FactScanRow[] {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite") throw new StoreError("not a SQLite store");
  const { sql, params } = factScanSqlite(columns, "ids");
  const statement = driver.sqlite.prepare(sql).raw();
  return (statement.all({ ...params, asOf, ids: JSON.stringify(customerIds) }) as unknown[][]).map(toFactScanRow);
}
