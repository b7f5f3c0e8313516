import { type Customer, customerLookups, findCustomersByNamePart, type NameMatch, type Store, searchCustomers as searchCustomerRows } from "@keepwarm/store";

export type CustomerLookup = { kind: "found"; customer: Customer } | { kind: "ambiguous"; candidates: Customer[] } | { kind: "none"; suggestions: Customer[] };

/** Exact id, then exact id in any case, then exact name in any case. */
export async function exactCustomer(store: Store, query: string): Promise<Customer | undefined> {
  const q = query.trim();
  if (q === "") return undefined;
  return (await customerLookups(store).namedByFirstOf([q]))?.customer;
}

/**
 * How a rep names a customer: by id, by full name in any case, or by a prefix that
 * only one customer's name starts with. Ambiguity lists the candidates; nothing
 * found lists near names.
 */
export async function lookupCustomer(store: Store, query: string, limit = 5): Promise<CustomerLookup> {
  const q = query.trim().replace(/\s+/g, " ");
  if (q === "") return { kind: "none", suggestions: [] };
  const lookups = customerLookups(store);
  const byId = await lookups.byExternalId(q);
  if (byId) return { kind: "found", customer: byId };
  const byName = await lookups.byName(q, limit + 1);
  if (byName.length === 1 && byName[0]) return { kind: "found", customer: byName[0] };
  if (byName.length > 1) return { kind: "ambiguous", candidates: byName.slice(0, limit) };
  const byIdNoCase = await lookups.byExternalIdNoCase(q, 2);
  if (byIdNoCase.length === 1 && byIdNoCase[0]) return { kind: "found", customer: byIdNoCase[0] };
  const prefix = await lookups.byNamePrefix(q, limit + 1);
  if (prefix.length === 1 && prefix[0]) return { kind: "found", customer: prefix[0] };
  if (prefix.length > 1) return { kind: "ambiguous", candidates: prefix.slice(0, limit) };
  return { kind: "none", suggestions: await suggestCustomers(store, q, limit) };
}

/** Names sharing a word with the query, for "did you mean". */
export async function suggestCustomers(store: Store, query: string, limit = 5): Promise<Customer[]> {
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{N}]/gu, ""))
    .filter((w) => w.length >= 2)
    .slice(0, 4);
  const found = new Map<number, Customer>();
  for (const word of words) {
    for (const [text, match] of [
      [word, "prefix"],
      [word, "word"],
      [word.slice(0, 3), "anywhere"],
    ] as Array<[string, NameMatch]>) {
      for (const row of await findCustomersByNamePart(store.db, text, match, limit)) if (found.size < limit) found.set(row.id, row);
      if (found.size >= limit) break;
    }
  }
  return [...found.values()];
}

/** Customers whose name or id starts with (or contains) the text: the modal's search. */
export async function searchCustomers(store: Store, text: string, limit = 20): Promise<Customer[]> {
  return searchCustomerRows(store.db, text, limit);
}
