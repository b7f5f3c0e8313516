import type BetterSqlite3 from "better-sqlite3";
import type { Customer } from "../tables/customers.table";
import type { CustomerLookups } from "./customer-lookups";
import { escapeLike } from "./customers";

/**
 * customerLookups on SQLite: the SQL of customers.ts as prepared statements, run at
 * once on the connection. (Not under kysely's connection lock: taking it cost more
 * than the seeks. A read that lands between the statements of another transaction of
 * this process reads the customers table, which no such transaction changes.)
 */
export function sqliteCustomerLookups(sqlite: BetterSqlite3.Database): CustomerLookups {
  const byId = sqlite.prepare<[string], Customer>("SELECT * FROM customers WHERE external_id = ?");
  const byIdNoCase = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE external_id = ? COLLATE NOCASE ORDER BY id LIMIT ?");
  const byName = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT ?");
  const byPrefix = sqlite.prepare<[string, number], Customer>("SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE, id LIMIT ?");
  const now = <T>(read: () => T): Promise<T> => Promise.resolve(read());
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
  };
}
