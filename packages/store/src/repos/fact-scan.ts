import type { Store } from "../open-store";
import { factRowChunksPostgres, factRowsOfPostgres } from "./fact-scan.postgres";
import { checkScanColumns, FACT_SCAN_CHUNK, type FactRowChunks, type FactScanRow, type ScanColumn } from "./fact-scan.shared";
import { factRowChunksSqlite, factRowsOfSqlite } from "./fact-scan.sqlite";

export * from "./fact-scan.shared";

/** The hot path, hand-tuned per engine: prepared statements on SQLite, one set-based statement per chunk on PostgreSQL. */
export function factRowChunks(store: Store, asOf: number, columns: readonly ScanColumn[]): FactRowChunks {
  checkScanColumns(columns, asOf);
  return store.engine === "postgres" ? factRowChunksPostgres(store, asOf, columns) : factRowChunksSqlite(store, asOf, columns);
}

/** Every customer's fact row at `asOf`, in id order, yielded a chunk (an array of rows) at a time. */
export async function* scanFactRows(store: Store, asOf: number, columns: readonly ScanColumn[], chunkSize = FACT_SCAN_CHUNK): AsyncGenerator<FactScanRow[]> {
  const next = factRowChunks(store, asOf, columns);
  for (let after: number | undefined = 0; after !== undefined; ) {
    const chunk = await next(after, chunkSize);
    if (chunk.rows.length > 0) yield chunk.rows;
    after = chunk.next;
  }
}

/** The fact rows of the given customers at `asOf` (those that exist then), in id order: the scan's SQL, scoped to them. */
export async function factRowsOf(store: Store, asOf: number, columns: readonly ScanColumn[], customerIds: readonly number[]): Promise<FactScanRow[]> {
  checkScanColumns(columns, asOf);
  if (customerIds.length === 0) return [];
  return store.engine === "postgres" ? factRowsOfPostgres(store, asOf, columns, customerIds) : factRowsOfSqlite(store, asOf, columns, customerIds);
}
