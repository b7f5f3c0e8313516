import { createHash } from "node:crypto";
import type { CustomerUpsert, ImportedTouch, NewNpsResponse, NewPurchase } from "@keepwarm/store";
import type { z } from "zod";
import { attributeValue, type customerRow, type npsRow, type purchaseRow } from "./row-parsers";
import type { TouchValues } from "./touch-fast-path";

/**
 * The checks a parsed row passes before it is stored, after its fields are valid: its
 * customer exists, it is not in the future; and the stored form (dedupe key, customer
 * columns). One definition for the CSV import and the API's JSON items.
 */

/** Why a row cannot be stored, and the field that says so. */
export class RowProblem {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

/** Clocks differ: an event a few minutes "ahead" of ours is not in the future. */
export const FUTURE_SLACK_MS = 5 * 60_000;

const dedupeKey = (parts: Array<string | number | null | undefined>): string =>
  createHash("sha1")
    .update(parts.map((p) => (p === null || p === undefined ? "" : String(p))).join("\u001f"))
    .digest("base64url");

const unknownCustomer = (externalId: string) => new RowProblem("customer_id", `unknown customer "${externalId}" (import customers first)`);

/** `occurredText`: the instant as the caller wrote it, for the message. */
export function checkTouch(row: TouchValues, customerId: number | null, now: number, occurredText: string): ImportedTouch | RowProblem {
  if (customerId === null) return unknownCustomer(row.customerId);
  if (row.occurredAt > now + FUTURE_SLACK_MS) return new RowProblem("occurred_at", `occurred_at ${occurredText} is in the future`);
  return { customerId, occurredAt: row.occurredAt, kind: row.kind, note: row.note, loggedBy: row.loggedBy, externalId: row.externalId };
}

export function checkNps(row: z.infer<ReturnType<typeof npsRow>>, customerId: number | null): NewNpsResponse | RowProblem {
  if (customerId === null) return unknownCustomer(row.customer_id);
  return { customer_id: customerId, score: row.score, responded_at: row.responded_at, comment: row.comment ?? null, external_id: row.external_id ?? null };
}

/**
 * A purchase's identity within one batch of rows (a file, an API request). With an
 * order_id, the order is the purchase: the same order twice is one purchase, and the
 * same order with another customer, date or amount is refused naming where it was
 * first. Without one, identical rows are distinct purchases (the nth repeat gets its
 * own key), and re-importing the same rows finds every key already stored.
 */
export class PurchaseKeys {
  private readonly repeats = new Map<string, number>();
  private readonly orders = new Map<string, { line: number; content: string }>();

  check(row: z.infer<ReturnType<typeof purchaseRow>>, customerId: number | null, line: number): NewPurchase | RowProblem {
    if (customerId === null) return unknownCustomer(row.customer_id);
    const cents = row.amount ?? 0;
    const content = dedupeKey([row.customer_id, row.occurred_at, cents]);
    let key: string;
    if (row.order_id !== null && row.order_id !== undefined) {
      const first = this.orders.get(row.order_id);
      if (first !== undefined && first.content !== content) {
        return new RowProblem("order_id", `order_id "${row.order_id}" is on line ${first.line} too, with another customer, date or amount`);
      }
      if (first === undefined) this.orders.set(` ${row.order_id}`.slice(1), { line, content });
      key = `order:${row.order_id}`;
    } else {
      const seen = this.repeats.get(content) ?? 0;
      this.repeats.set(content, seen + 1);
      key = seen === 0 ? content : dedupeKey([row.customer_id, row.occurred_at, cents, seen + 1]);
    }
    return { customer_id: customerId, occurred_at: row.occurred_at, amount_cents: cents, dedupe_key: key };
  }
}

/** Customer field (as the CSV names it) → stored column, for the optional customer fields (the owner is resolved apart). */
export const CUSTOMER_COLUMNS = [
  ["segment", "segment"],
  ["lifecycle_stage", "lifecycle_stage"],
  ["tier", "tier"],
  ["since", "since_at"],
  ["renewal_date", "renewal_at"],
  ["loyalty_member", "loyalty_member"],
  ["churned_at", "churned_at"],
] as const;
export type CustomerColumn = (typeof CUSTOMER_COLUMNS)[number] | readonly [string, string];

/**
 * A parsed customer as an upsert: only the `present` fields are set (a file without
 * `tier` leaves every tier as it is), attributes are a patch (null removes one).
 */
export function customerUpsertOf(
  row: z.infer<ReturnType<typeof customerRow>>,
  present: readonly CustomerColumn[],
  attributes: Iterable<[string, string | number | boolean | null]>,
): CustomerUpsert {
  // No prototype: an attribute named __proto__ is an attribute like any other.
  const upsert: CustomerUpsert = { externalId: row.id, name: row.name, fields: {}, attributes: Object.create(null) };
  const stored = upsert.fields as Record<string, unknown>;
  const values = row as Record<string, unknown>;
  for (const [field, column] of present) stored[column] = values[field] ?? (field === "loyalty_member" ? 0 : null);
  for (const [name, value] of attributes) upsert.attributes[name] = value;
  return upsert;
}

/** A CSV's extra columns as attributes: numbers and booleans keep their type for rules. */
export function* csvAttributes(extra: Record<string, string>): Iterable<[string, string | number | boolean | null]> {
  for (const [name, raw] of Object.entries(extra)) yield [name, attributeValue(raw)];
}
