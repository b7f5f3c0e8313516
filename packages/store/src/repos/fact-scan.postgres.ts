import { createHash } from "node:crypto";
import { driverOf, type Store, StoreError } from "../open-store";
import { CUSTOMER_SELECT, type FactChunk, type FactRowChunks, type FactScanRow, HISTORY_TABLES, type ScanColumn, toFactScanRow } from "./fact-scan.shared";

/**
 * A slice's fact inputs in one set-based statement: the customers with ids in
 * ($1, $2] that exist at $3 (asOf), then one grouped pass over each history table a
 * requested column reads, restricted to the chunk's id range and walking the
 * (customer_id, time) index in order — a range scan per table and chunk instead of a
 * handful of index seeks per customer. Each column is an aggregate with a FILTER; the
 * latest value comes from an ordered aggregate, ties broken as on SQLite. A table no
 * column reads is not joined at all.
 */
export function factScanPostgres(columns: readonly ScanColumn[], by: "range" | "ids" = "range"): { sql: string; values: unknown[] } {
  // A slice of the whole scan ($1, $2], or the customers of the array $1; asOf follows.
  const scope =
    by === "range"
      ? { values: [null, null, null], asOf: "$3", customers: "id > $1 AND id <= $2", history: "customer_id > $1 AND customer_id <= $2" }
      : { values: [null, null], asOf: "$2", customers: "id = ANY($1::bigint[])", history: "customer_id = ANY($1::bigint[])" };
  const values: unknown[] = [...scope.values];
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
  WHERE ${scope.history} AND ${time} <= ${scope.asOf}
  GROUP BY customer_id
) ${of} ON ${of}.customer_id = c.id`;
  });
  const sql = `WITH c AS (
  SELECT ${CUSTOMER_SELECT.join(", ")}
  FROM customers
  WHERE ${scope.customers} AND (churned_at IS NULL OR churned_at > ${scope.asOf}) AND least(created_at, coalesce(since_at, created_at)) <= ${scope.asOf}
)
SELECT ${select.join(", ")}
FROM c
${joins.join("\n")}
ORDER BY c.id`;
  return { sql, values };
}

/** Where a chunk of `limit` customer ids after `after` ends, and where its first half ends. */
const BOUNDS_SQL = `SELECT
  (SELECT id FROM customers WHERE id > $1 ORDER BY id OFFSET $2 LIMIT 1) AS middle,
  (SELECT id FROM customers WHERE id > $1 ORDER BY id OFFSET $3 LIMIT 1) AS last,
  (SELECT max(id) FROM customers) AS top`;

/** Below this many customers a chunk is not split: two round trips would cost more than they save. */
const SPLIT_FROM = 1_000;

/**
 * The scan on PostgreSQL keeps both cores busy. A chunk is `limit` customer ids (its
 * bounds found on the primary key's index), fetched as two halves on two pooled
 * connections at once; and as soon as a chunk's bounds are known the next chunk is
 * fetched ahead, so the server computes it while the caller evaluates this one. The
 * speculative chunk is only used when the caller asks for exactly it; rows never
 * cross chunks. Memory stays two chunks.
 */
export function factRowChunksPostgres(store: Store, asOf: number, columns: readonly ScanColumn[]): FactRowChunks {
  const driver = driverOf(store);
  if (driver.engine !== "postgres") throw new StoreError("not a PostgreSQL store");
  const { pool } = driver;
  const { sql, values } = factScanPostgres(columns);
  // A named statement is planned once per connection; its name must follow its text.
  const name = `keepwarm_fact_scan_${createHash("sha1").update(sql).digest("hex").slice(0, 16)}`;
  const slice = async (after: number, last: number) => {
    const args = [...values];
    args[0] = after;
    args[1] = last;
    args[2] = asOf;
    const result = await pool.query<unknown[]>({ name, text: sql, values: args, rowMode: "array" });
    return result.rows.map(toFactScanRow);
  };
  const fetchChunk = async (after: number, limit: number): Promise<FactChunk> => {
    const split = limit >= SPLIT_FROM;
    const bounds = await pool.query<{ middle: number | null; last: number | null; top: number | null }>({
      name: "keepwarm_fact_scan_bounds",
      text: BOUNDS_SQL,
      values: [after, split ? Math.floor(limit / 2) - 1 : limit - 1, limit - 1],
    });
    const { middle, last, top } = bounds.rows[0] ?? { middle: null, last: null, top: null };
    const end = last ?? top ?? after;
    if (end <= after) return { rows: [], next: undefined };
    const next = last === null ? undefined : last;
    if (!split || middle === null || middle >= end) return { rows: await slice(after, end), next };
    const [first, second] = await Promise.all([slice(after, middle), slice(middle, end)]);
    return { rows: first.concat(second), next };
  };
  let ahead: { after: number; limit: number; chunk: Promise<FactChunk> } | undefined;
  // Registered before the caller's own await, so the next chunk is on its way first.
  const fetchNextAhead = (chunk: Promise<FactChunk>, limit: number) => {
    chunk.then(
      (done) => {
        if (done.next === undefined || limit < SPLIT_FROM) return;
        const speculative = fetchChunk(done.next, limit);
        speculative.catch(() => {}); // the caller sees the error if it asks for this chunk
        ahead = { after: done.next, limit, chunk: speculative };
      },
      () => {},
    );
    return chunk;
  };
  return (after, limit) => {
    const hit = ahead !== undefined && ahead.after === after && ahead.limit === limit ? ahead.chunk : undefined;
    ahead = undefined;
    return fetchNextAhead(hit ?? fetchChunk(after, limit), limit);
  };
}

/** The scan's rows of the given customers only (real-time evaluation): the same statement, scoped by id. */
export async function factRowsOfPostgres(store: Store, asOf: number, columns: readonly ScanColumn[], customerIds: readonly number[]): Promise<FactScanRow[]> {
  const driver = driverOf(store);
  if (driver.engine !== "postgres") throw new StoreError("not a PostgreSQL store");
  const { sql, values } = factScanPostgres(columns, "ids");
  values[0] = customerIds;
  values[1] = asOf;
  const result = await driver.pool.query<unknown[]>({ text: sql, values, rowMode: "array" });
  return result.rows.map(toFactScanRow);
}
