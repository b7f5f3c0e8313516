import { driverOf, type Store } from "../open-store";
import type { Customer } from "../tables/customers.table";
import { sqliteCustomerLookups } from "./customer-lookups.sqlite";
import {
  customerIdsByExternalIds,
  customerIdsUpTo,
  findCustomerByExternalId,
  findCustomerNamedByFirstOf,
  findCustomersByExternalIdNoCase,
  findCustomersByName,
  findCustomersByNamePrefix,
} from "./customers";

/**
 * The customer lookups of `/touch`, the bot's busiest command: it tries every leading
 * run of its words, so one command makes up to a dozen of them. Same answers as the
 * functions in customers.ts; on SQLite through prepared statements kept per
 * connection (no query building, no statement compiling: a few microseconds each), on
 * PostgreSQL through those functions (the round trip is the cost there).
 */
export interface CustomerLookups {
  byExternalId(externalId: string): Promise<Customer | undefined>;
  byExternalIdNoCase(externalId: string, limit: number): Promise<Customer[]>;
  byName(name: string, limit: number): Promise<Customer[]>;
  byNamePrefix(prefix: string, limit: number): Promise<Customer[]>;
  /** The first of `texts` naming a customer exactly, and that customer (findCustomerNamedByFirstOf). */
  namedByFirstOf(texts: readonly string[]): Promise<{ customer: Customer; text: string } | undefined>;
  /** Row ids by external id (exact), absent ids absent: customerIdsByExternalIds, for the CSV import's check pass. */
  idsByExternalIds(externalIds: readonly string[]): Promise<Map<string, number>>;
  /** Every customer's row id by external id, or undefined when there are more than `limit` customers (customerIdsUpTo). */
  allIds(limit: number): Promise<Map<string, number> | undefined>;
}

const lookups = new WeakMap<Store, CustomerLookups>();

export function customerLookups(store: Store): CustomerLookups {
  let found = lookups.get(store);
  if (found === undefined) {
    const driver = driverOf(store);
    const db = store.db;
    found =
      driver.engine === "sqlite"
        ? sqliteCustomerLookups(driver.sqlite, db)
        : {
            byExternalId: (externalId) => findCustomerByExternalId(db, externalId),
            byExternalIdNoCase: (externalId, limit) => findCustomersByExternalIdNoCase(db, externalId, limit),
            byName: (name, limit) => findCustomersByName(db, name, limit),
            byNamePrefix: (prefix, limit) => findCustomersByNamePrefix(db, prefix, limit),
            namedByFirstOf: (texts) => findCustomerNamedByFirstOf(db, texts),
            idsByExternalIds: (externalIds) => customerIdsByExternalIds(db, externalIds),
            allIds: (limit) => customerIdsUpTo(db, limit),
          };
    lookups.set(store, found);
  }
  return found;
}
