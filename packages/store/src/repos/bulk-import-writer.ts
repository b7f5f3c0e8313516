import { driverOf, type Store } from "../open-store";
import type { BulkTouchWriter, TouchWriterOptions } from "./bulk-import";
import { openPostgresTouchWriter } from "./bulk-import.postgres";
import { openSqliteTouchWriter } from "./bulk-import.sqlite";

/** The touches import's writer for the store's engine (see BulkTouchWriter). */
export async function openBulkTouchWriter(store: Store, options: TouchWriterOptions): Promise<BulkTouchWriter> {
  const driver = driverOf(store);
  return driver.engine === "sqlite" ? openSqliteTouchWriter(store.db, driver.sqlite, options) : openPostgresTouchWriter(store.db, driver.pool, options);
}
