import type { Customer, Store } from "@keepwarm/store";
import { cachedStatement } from "./statements";

export type CustomerLookup = { kind: "found"; customer: Customer } | { kind: "ambiguous"; candidates: Customer[] } | { kind: "none"; suggestions: Customer[] };

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Exact id, then exact name (case-insensitive). */
export function exactCustomer(store: Store, query: string): Customer | undefined {
  const q = query.trim();
  if (q === "") return undefined;
  return (cachedStatement(store, "SELECT * FROM customers WHERE external_id = ?").get(q) ??
    cachedStatement(store, "SELECT * FROM customers WHERE external_id = ? COLLATE NOCASE LIMIT 2").get(q) ??
    cachedStatement(store, "SELECT * FROM customers WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 1").get(q)) as Customer | undefined;
}

/**
 * How a rep names a customer: by id, by full name in any case, or by a prefix that
 * only one customer's name starts with. Ambiguity lists the candidates; nothing
 * found lists near names.
 */
export function lookupCustomer(store: Store, query: string, limit = 5): CustomerLookup {
  const q = query.trim().replace(/\s+/g, " ");
  if (q === "") return { kind: "none", suggestions: [] };
  const byId = cachedStatement(store, "SELECT * FROM customers WHERE external_id = ?").get(q) as Customer | undefined;
  if (byId) return { kind: "found", customer: byId };
  const byName = cachedStatement(store, "SELECT * FROM customers WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT ?").all(q, limit + 1) as Customer[];
  if (byName.length === 1 && byName[0]) return { kind: "found", customer: byName[0] };
  if (byName.length > 1) return { kind: "ambiguous", candidates: byName.slice(0, limit) };
  const byIdNoCase = cachedStatement(store, "SELECT * FROM customers WHERE external_id = ? COLLATE NOCASE LIMIT 2").all(q) as Customer[];
  if (byIdNoCase.length === 1 && byIdNoCase[0]) return { kind: "found", customer: byIdNoCase[0] };
  const prefix = cachedStatement(store, "SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE LIMIT ?").all(
    `${escapeLike(q)}%`,
    limit + 1,
  ) as Customer[];
  if (prefix.length === 1 && prefix[0]) return { kind: "found", customer: prefix[0] };
  if (prefix.length > 1) return { kind: "ambiguous", candidates: prefix.slice(0, limit) };
  return { kind: "none", suggestions: suggestCustomers(store, q, limit) };
}

/** Names sharing a word with the query, for "did you mean". */
export function suggestCustomers(store: Store, query: string, limit = 5): Customer[] {
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{N}]/gu, ""))
    .filter((w) => w.length >= 2)
    .slice(0, 4);
  const found = new Map<number, Customer>();
  for (const word of words) {
    for (const pattern of [`${escapeLike(word)}%`, `% ${escapeLike(word)}%`, `%${escapeLike(word.slice(0, 3))}%`]) {
      const rows = store.sqlite.prepare("SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT ?").all(pattern, limit) as Customer[];
      for (const row of rows) if (found.size < limit) found.set(row.id, row);
      if (found.size >= limit) break;
    }
  }
  return [...found.values()];
}

/** Customers whose name or id starts with (or contains) the text: the modal's search. */
export function searchCustomers(store: Store, text: string, limit = 20): Customer[] {
  const q = escapeLike(text.trim());
  return store.sqlite
    .prepare(
      "SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' OR external_id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' ORDER BY (name LIKE ? ESCAPE '\\') DESC, name LIMIT ?",
    )
    .all(`${q}%`, `${q}%`, `% ${q}%`, `${q}%`, limit) as Customer[];
}
