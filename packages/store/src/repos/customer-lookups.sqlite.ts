import type BetterSqlite3 from "better-sqlite3";
import type { Db } from "../engine/transaction";
import type { Customer } from "../tables/customers.table";
import type { CustomerLookups } from "./customer-lookups";
import { escapeLike } from "./customers";

/**
 * The sizes of the IN statements of idsByExternalIds, the largest well under SQLite's
 * bound-parameter limit; a smaller list is padded with NULLs (which match nothing) to the next size.
 */
const IN_IDS = 500;
const IN_SIZES = [1, 16, 100, IN_IDS] as const;

/**
 * customerLookups on SQLite: the SQL of customers.ts as prepared statements, run at
 * once on the connection. (Not under kysely's connection lock: taking it cost more
 * than the seeks. A read that lands between the statements of another transaction of
 * this process reads the customers table, which no such transaction changes.)
 */
export function sqliteCustomerLookups(sqlite: BetterSqlite3.Database, db: Db): CustomerLookups {
  const byId = sqlite.prepare<[string], Customer>("SELECT * FROM customers WHERE external_id = ?");
  const byIdNoCase = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE external_id = ? COLLATE NOCASE ORDER BY id LIMIT ?");
  const byName = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT ?");
  const byPrefix = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE, id LIMIT ?");
  const all = sqlite.prepare<[number], [string, number]>("SELECT external_id, id FROM customers LIMIT ?").raw();
  const byIds = new Map<number, BetterSqlite3.Statement<Array<string | null>, [number, string]>>();
  const idsIn = (ids: number) => {
    let statement = byIds.get(ids);
    if (statement === undefined) {
      statement = sqlite
        .prepare<Array<string | null>, [number, string]>(
          `SELECT id, external_id FROM customers WHERE external_id IN (${Array.from({ length: ids }, () => "?").join(", ")})`,
        )
        .raw();
      byIds.set(ids, statement);
    }
    return statement;
  };
  const now = <T>(read: () => T): Promise<T> => Promise.resolve(read());
  /**
   * The import's batch lookups do take kysely's connection lock (once per call): a customers
   * import in the same process may be halfway through a transaction that adds customers.
   */
  const locked = <T>(read: () => T): Promise<T> => db.connection().execute(async () => read());
  return {
    byExternalId: (externalId) => now(() => byId.get(externalId)),
    byExternalIdNoCase: (externalId, limit) => now(() => byIdNoCase.all(externalId, limit)),
    byName: (name, limit) => now(() => byName.all(name, limit)),
    byNamePrefix: (prefix, limit) => now(() => byPrefix.all(`${escapeLike(prefix)}%`, limit)),
    namedByFirstOf: (texts) =>
      now(() => {
        for (const text of texts) {
          const customer = byId.get(text) ?? byIdNoCase.get(text, 1) ?? byName.get(text, 1);
          if (customer !== undefined) return { customer, text };
        }
        return undefined;
      }),
    // Prepared IN statements of a few fixed sizes: through kysely, each 500-id query was built and
    // compiled anew, ≈ 6 µs per id in all (60 ms of a 200k-row touches import's ids).
    idsByExternalIds: (externalIds) =>
      locked(() => {
        const found = new Map<string, number>();
        for (let start = 0; start < externalIds.length; start += IN_IDS) {
          const slice: Array<string | null> = externalIds.slice(start, start + IN_IDS);
          const size = IN_SIZES.find((n) => n >= slice.length) as number;
          while (slice.length < size) slice.push(null);
          for (const [id, externalId] of idsIn(size).all(...slice)) found.set(externalId, id);
        }
        return found;
      }),
    allIds: (limit) =>
      locked(() => {
        const rows = all.all(limit + 1);
        return rows.length > limit ? undefined : new Map(rows);
      }),
  };
}
