import { createHash } from "node:crypto";
import { driverOf, type Store, StoreError } from "../open-store";
import { CUSTOMER_SELECT, type FactRowChunks, HISTORY_TABLES, type ScanColumn, toFactScanRow } from "./fact-scan.shared";

/**
 * A chunk's fact inputs in one set-based statement: the chunk's customers by keyset
 * ($1 after, $2 limit, $3 asOf), then one grouped pass over each history table a
 * requested column reads, restricted to the chunk's id range and walking the
 * (customer_id, time) index in order — a range scan per table and chunk instead of a
 * handful of index seeks per customer. Each column is an aggregate with a FILTER; the
 * latest value comes from an ordered aggregate, ties broken as on SQLite. A table no
 * column reads is not joined at all.
 */
export function factScanPostgres(columns: readonly ScanColumn[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [null, null, null];
  const param = (value: unknown, cast = "") => {
    values.push(value);
    return `$${values.length}${cast}`;
  };
  const byTable = new Map<ScanColumn["of"], string[]>();
  const select = CUSTOMER_SELECT.map((name) => `c.${name}`);
  columns.forEach((column, i) => {
    const { time, value } = HISTORY_TABLES[column.of];
    const filter = [`${time} <= ${param(column.to, "::bigint")}`];
    if (column.from !== undefined) filter.push(`${time} >= ${param(column.from, "::bigint")}`);
    if (column.kinds !== undefined) filter.push(`kind = ANY(${param([...column.kinds], "::text[]")})`);
    const where = `FILTER (WHERE ${filter.join(" AND ")})`;
    const alias = `a${i}`;
    let aggregate: string;
    switch (column.op) {
      case "lastAt":
        aggregate = `max(${time}) ${where}`;
        break;
      case "latest":
        aggregate = `(array_agg(${value} ORDER BY ${time} DESC, id DESC) ${where})[${column.nth ?? 1}]`;
        break;
      case "count":
        aggregate = `count(*) ${where}`;
        break;
      case "sum":
        aggregate = `sum(${value}) ${where}`;
        break;
    }
    const list = byTable.get(column.of) ?? [];
    list.push(`${aggregate} AS ${alias}`);
    byTable.set(column.of, list);
    const ref = `${column.of}.${alias}`;
    select.push(column.op === "count" || column.op === "sum" ? `coalesce(${ref}, 0)` : ref);
  });
  const joins = [...byTable].map(([of, aggregates]) => {
    const { table, time } = HISTORY_TABLES[of];
    return `LEFT JOIN (
  SELECT customer_id, ${aggregates.join(", ")}
  FROM ${table}
  WHERE customer_id > $1 AND customer_id <= (SELECT last FROM range) AND ${time} <= $3
  GROUP BY customer_id
) ${of} ON ${of}.customer_id = c.id`;
  });
  const sql = `WITH c AS (
  SELECT ${CUSTOMER_SELECT.join(", ")}
  FROM customers
  WHERE id > $1 AND (churned_at IS NULL OR churned_at > $3) AND least(created_at, coalesce(since_at, created_at)) <= $3
  ORDER BY id LIMIT $2
), range AS (SELECT max(id) AS last FROM c)
SELECT ${select.join(", ")}
FROM c
${joins.join("\n")}
ORDER BY c.id`;
  return { sql, values };
}

/** One round trip per chunk on the pool, rows as arrays; memory is the chunk's. */
export function factRowChunksPostgres(store: Store, asOf: number, columns: readonly ScanColumn[]): FactRowChunks {
  const driver = driverOf(store);
  if (driver.engine !== "postgres") throw new StoreError("not a PostgreSQL store");
  const { pool } = driver;
  const { sql, values } = factScanPostgres(columns);
  // A named statement is planned once per connection; its name must follow its text.
  const name = `keepwarm_fact_scan_${createHash("sha1").update(sql).digest("hex").slice(0, 16)}`;
  return async (after, limit) => {
    values[0] = after;
    values[1] = limit;
    values[2] = asOf;
    const result = await pool.query<unknown[]>({ name, text: sql, values: [...values], rowMode: "array" });
    return result.rows.map(toFactScanRow);
  };
}
