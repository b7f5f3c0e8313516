import { type Expression, type RawBuilder, type SqlBool, sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import type { Db } from "../engine/transaction";
import type { Customer, CustomersTable, NewCustomer } from "../tables/customers.table";

/**
 * Customer lookups as a rep types them: by id or name, in any case, or by a prefix.
 * "Any case" is the engine's: SQLite's NOCASE folds ASCII letters (served by the
 * NOCASE indexes), PostgreSQL's lower() folds every letter (served by the lower()
 * indexes). User text goes into LIKE patterns escaped, so `50%` or `a_b` match
 * themselves.
 */

type TextColumn = "external_id" | "name";

/** `text` as a LIKE pattern matching itself: `\`, `%` and `_` escaped with `\` (every LIKE here says ESCAPE '\'). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `column = value` in any case (index: customers_external_id_nocase / customers_name_nocase). */
function equalsNoCase(db: Db, column: TextColumn, value: string): RawBuilder<boolean> {
  return isPostgres(db) ? sql<boolean>`lower(${sql.ref(column)}) = lower(${value})` : sql<boolean>`${sql.ref(column)} = ${value} COLLATE NOCASE`;
}

/** `column LIKE pattern` in any case; `pattern` is already escaped (index for a prefix: customers_name_nocase on SQLite, customers_name_prefix on PostgreSQL). */
function likeNoCase(db: Db, column: TextColumn, pattern: string): RawBuilder<boolean> {
  // SQLite's LIKE ignores ASCII case by itself; PostgreSQL's is exact.
  return isPostgres(db)
    ? sql<boolean>`lower(${sql.ref(column)}) LIKE lower(${pattern}) ESCAPE '\\'`
    : sql<boolean>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`;
}

/** Names in code-point order (binary on SQLite, the "C" collation on PostgreSQL), whatever the database's collation. */
const byName = (db: Db): RawBuilder<string> => (isPostgres(db) ? sql<string>`name COLLATE "C"` : sql<string>`name`);
/** Names in code-point order of their case-folded form. */
const byNameNoCase = (db: Db): RawBuilder<string> => (isPostgres(db) ? sql<string>`lower(name) COLLATE "C"` : sql<string>`name COLLATE NOCASE`);

export async function findCustomerById(db: Db, id: number): Promise<Customer | undefined> {
  return db.selectFrom("customers").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The customer with exactly this id (as imported: case matters). */
export async function findCustomerByExternalId(db: Db, externalId: string): Promise<Customer | undefined> {
  return db.selectFrom("customers").selectAll().where("external_id", "=", externalId).executeTakeFirst();
}

/**
 * The customer `text` names exactly: its id as written, else its id in any case, else
 * its full name in any case (the oldest such customer).
 */
export async function findCustomerNamedExactly(db: Db, text: string): Promise<Customer | undefined> {
  return (await findCustomerNamedByFirstOf(db, [text]))?.customer;
}

/**
 * The first of `texts` that names a customer exactly (as findCustomerNamedExactly
 * decides), and that customer. `/touch` asks this with every leading run of its words,
 * longest first: one statement of index seeks (UNION ALL: an OR of the three
 * conditions scanned the whole table on SQLite), not one round trip per run.
 */
export async function findCustomerNamedByFirstOf(db: Db, texts: readonly string[]): Promise<{ customer: Customer; text: string } | undefined> {
  const seek = (position: number, rank: number, where: Expression<SqlBool>) =>
    db
      .selectFrom("customers")
      .selectAll()
      .select([sql<number>`${sql.lit(position)}`.as("position"), sql<number>`${sql.lit(rank)}`.as("rank")])
      .where(where);
  const seeks = texts.flatMap((text, position) => [
    seek(position, 0, sql<boolean>`external_id = ${text}`),
    seek(position, 1, equalsNoCase(db, "external_id", text)),
    seek(position, 2, equalsNoCase(db, "name", text)),
  ]);
  const [first, ...rest] = seeks;
  if (first === undefined) return undefined;
  const found = await rest
    .reduce((query, next) => query.unionAll(next), first)
    .orderBy("position")
    .orderBy("rank")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
  if (found === undefined) return undefined;
  const { position, rank: _rank, ...customer } = found;
  return { customer, text: texts[position] as string };
}

/** Customers whose id is `externalId` in any case, oldest first. */
export async function findCustomersByExternalIdNoCase(db: Db, externalId: string, limit: number): Promise<Customer[]> {
  return db
    .selectFrom("customers")
    .selectAll()
    .where(equalsNoCase(db, "external_id", externalId))
    .orderBy("id")
    .limit(limit)
    .execute();
}

/** Customers whose full name is `name` in any case, oldest first. */
export async function findCustomersByName(db: Db, name: string, limit: number): Promise<Customer[]> {
  return db
    .selectFrom("customers")
    .selectAll()
    .where(equalsNoCase(db, "name", name))
    .orderBy("id")
    .limit(limit)
    .execute();
}

/** Customers whose name starts with `prefix` in any case, by name. */
export async function findCustomersByNamePrefix(db: Db, prefix: string, limit: number): Promise<Customer[]> {
  return db
    .selectFrom("customers")
    .selectAll()
    .where(likeNoCase(db, "name", `${escapeLike(prefix)}%`))
    .orderBy(byNameNoCase(db))
    .orderBy("id")
    .limit(limit)
    .execute();
}

/** Where `text` may sit in a name: at its start, at the start of a later word, anywhere. */
export type NameMatch = "prefix" | "word" | "anywhere";

/** Customers whose name holds `text` (any case) as `match` says, by name: "did you mean" lists. */
export async function findCustomersByNamePart(db: Db, text: string, match: NameMatch, limit: number): Promise<Customer[]> {
  const escaped = escapeLike(text);
  const pattern = match === "prefix" ? `${escaped}%` : match === "word" ? `% ${escaped}%` : `%${escaped}%`;
  return db
    .selectFrom("customers")
    .selectAll()
    .where(likeNoCase(db, "name", pattern))
    .orderBy(byName(db))
    .orderBy("id")
    .limit(limit)
    .execute();
}

/** The modal's search: names or ids starting with the text, or names with a word starting with it; name prefixes first. */
export async function searchCustomers(db: Db, text: string, limit: number): Promise<Customer[]> {
  const q = escapeLike(text.trim());
  const namePrefix = likeNoCase(db, "name", `${q}%`);
  return db
    .selectFrom("customers")
    .selectAll()
    .where((eb) => eb.or([namePrefix, likeNoCase(db, "external_id", `${q}%`), likeNoCase(db, "name", `% ${q}%`)]))
    .orderBy(sql`CASE WHEN ${namePrefix} THEN 0 ELSE 1 END`)
    .orderBy(byName(db))
    .orderBy("id")
    .limit(limit)
    .execute();
}

export async function countCustomers(db: Db): Promise<number> {
  const row = await db
    .selectFrom("customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The lowest and highest customer row ids (0 and 0 without customers). */
export async function customerIdRange(db: Db): Promise<{ min: number; max: number }> {
  const row = await db
    .selectFrom("customers")
    .select((eb) => [eb.fn.min("id").as("min"), eb.fn.max("id").as("max")])
    .executeTakeFirst();
  return { min: Number(row?.min ?? 0), max: Number(row?.max ?? 0) };
}

/** Rows per INSERT: 14 columns stay well under both engines' bound-parameter limits. */
const INSERT_BATCH = 500;

/** Insert customers (tests, seeding, the demo); returns their ids in input order. */
export async function insertCustomers(db: Db, rows: readonly NewCustomer[]): Promise<number[]> {
  for (let start = 0; start < rows.length; start += INSERT_BATCH)
    await db
      .insertInto("customers")
      .values(rows.slice(start, start + INSERT_BATCH))
      .execute();
  // By external id (unique), not from RETURNING: a multi-row RETURNING promises no order.
  const ids = await customerIdsByExternalIds(
    db,
    rows.map((row) => row.external_id),
  );
  return rows.map((row) => ids.get(row.external_id) as number);
}

/** Row ids of the customers with these external ids (exact); absent ids are absent from the map. */
export async function customerIdsByExternalIds(db: Db, externalIds: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let start = 0; start < externalIds.length; start += INSERT_BATCH) {
    const slice = externalIds.slice(start, start + INSERT_BATCH);
    const rows = await db.selectFrom("customers").select(["id", "external_id"]).where("external_id", "in", slice).execute();
    for (const row of rows) found.set(row.external_id, row.id);
  }
  return found;
}

/** Every customer's row id by external id, or undefined when there are more than `limit` customers. */
export async function customerIdsUpTo(db: Db, limit: number): Promise<Map<string, number> | undefined> {
  const rows = await db
    .selectFrom("customers")
    .select(["external_id", "id"])
    .limit(limit + 1)
    .execute();
  return rows.length > limit ? undefined : new Map(rows.map((row) => [row.external_id, row.id]));
}

/** The customer columns an import may set besides id and name (the CSV's optional columns, stored form). */
export const CUSTOMER_IMPORT_FIELDS = [
  "segment",
  "lifecycle_stage",
  "owner_slack_id",
  "owner_ref",
  "tier",
  "since_at",
  "renewal_at",
  "loyalty_member",
  "churned_at",
] as const;
export type CustomerImportField = (typeof CUSTOMER_IMPORT_FIELDS)[number];

/** One customers-file row: the columns the file has, and its other columns as an attribute patch (null removes). */
export interface CustomerUpsert {
  externalId: string;
  name: string;
  fields: Partial<Pick<CustomersTable, CustomerImportField>>;
  attributes: Record<string, string | number | boolean | null>;
}

/** What one customers batch changed, so a failed import can take it back (see undoImport). */
export interface CustomerBatchChanges {
  outcomes: Array<"inserted" | "updated" | "unchanged">;
  inserted: number[];
  /** Rows as they were before the batch first updated them. */
  previous: Customer[];
}

/**
 * Upsert customers by external id, in the caller's transaction: a new id is inserted,
 * a known one updated when anything differs (attributes merged as a JSON merge patch:
 * a key set to null is removed). Outcomes are in input order; a later row of the same
 * id sees the earlier one. Merging in TypeScript keeps one behaviour on both engines
 * (PostgreSQL has no json_patch, and attributes are TEXT on both).
 */
export async function upsertCustomers(trx: Db, rows: readonly CustomerUpsert[], now: number): Promise<CustomerBatchChanges> {
  const current = new Map<string, Customer>();
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    const ids = [...new Set(rows.slice(start, start + INSERT_BATCH).map((row) => row.externalId))];
    for (const row of await trx.selectFrom("customers").selectAll().where("external_id", "in", ids).execute()) current.set(row.external_id, row);
  }
  const changes: CustomerBatchChanges = { outcomes: [], inserted: [], previous: [] };
  const touched = new Set<number>();
  for (const row of rows) {
    const existing = current.get(row.externalId);
    if (existing === undefined) {
      const attributes = Object.fromEntries(Object.entries(row.attributes).filter(([, value]) => value !== null));
      const inserted = await trx
        .insertInto("customers")
        .values({
          external_id: row.externalId,
          name: row.name,
          ...row.fields,
          loyalty_member: row.fields.loyalty_member ?? 0,
          attributes: JSON.stringify(attributes),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      changes.inserted.push(inserted.id);
      touched.add(inserted.id);
      current.set(row.externalId, inserted);
      changes.outcomes.push("inserted");
      continue;
    }
    const update = { name: row.name, ...row.fields, attributes: mergeAttributes(existing.attributes, row.attributes) };
    if (Object.entries(update).every(([column, value]) => existing[column as keyof Customer] === value)) {
      changes.outcomes.push("unchanged");
      continue;
    }
    if (!touched.has(existing.id)) {
      changes.previous.push(existing);
      touched.add(existing.id);
    }
    await trx
      .updateTable("customers")
      .set({ ...update, updated_at: now })
      .where("id", "=", existing.id)
      .execute();
    current.set(row.externalId, { ...existing, ...update, updated_at: now });
    changes.outcomes.push("updated");
  }
  return changes;
}

/** RFC 7396 merge of a flat patch into stored attributes: null removes a key, anything else sets it. */
function mergeAttributes(stored: string, patch: Record<string, unknown>): string {
  let merged: Record<string, unknown>;
  try {
    const parsed = JSON.parse(stored) as unknown;
    merged = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    merged = {};
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    // defineProperty: an attribute named __proto__ is data, never the prototype.
    else Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return JSON.stringify(merged);
}
