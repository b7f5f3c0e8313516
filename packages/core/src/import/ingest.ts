import {
  type CustomerUpsert,
  customerIdsByExternalIds,
  type ImportedTouch,
  ingestTouches,
  type Store,
  TOUCH_KINDS,
  TouchOccurrences,
  upsertCustomers,
  writeTransaction,
} from "@keepwarm/store";
import { Calendar, isSlackUserId } from "@keepwarm/rules";
import { z } from "zod";
import { cooldownUntil } from "../dates";
import type { ImportKind } from "./kinds";
import { CUSTOMER_COLUMNS, checkNps, checkTouch, customerUpsertOf, PurchaseKeys, RowProblem } from "./row-checks";
import { customerRow, npsRow, purchaseRow, touchRow } from "./row-parsers";
import { type CheckedInserts, writeCheckedInserts } from "./write-checked";

/**
 * The CSV import's rows as JSON items (the HTTP API's ingest). An item's field takes
 * what the CSV cell would hold, as a JSON string (or a number or boolean where that is
 * the natural JSON), and the import's row parser (row-parsers.ts) decides: same
 * validation, same messages, same stored form and dedupe (row-checks.ts and the store's
 * writers). Unknown fields are refused, not ignored: a misspelt field must not vanish.
 */

const cellError = (expected: string) => (issue: { input: unknown }) => (issue.input === undefined ? "is required" : `expected ${expected}`);

/** A JSON string (or null: an empty cell) as the cell's text, then the row parser's field. */
const fromText = <Out>(field: z.ZodType<Out, string>) =>
  z
    .union([z.string(), z.null()], { error: cellError("a string") })
    .transform((v) => v ?? "")
    .pipe(field);
/** A JSON number or its text. */
const fromNumber = <Out>(field: z.ZodType<Out, string>) =>
  z
    .union([z.number(), z.string(), z.null()], { error: cellError("a number") })
    .transform((v) => (v === null ? "" : String(v)))
    .pipe(field);
/** A JSON boolean or its text (true/false/yes/no/1/0). */
const fromBoolean = <Out>(field: z.ZodType<Out, string>) =>
  z
    .union([z.boolean(), z.string(), z.null()], { error: cellError("a boolean") })
    .transform((v) => (v === null ? "" : String(v)))
    .pipe(field);

const ATTRIBUTE_VALUE = z.union([z.string().max(4000, "longer than 4000 characters"), z.number(), z.boolean(), z.null()], {
  error: "an attribute is a string, a number, a boolean or null (null removes it)",
});

/** A Slack member id (the API takes ids; emails and names are the CSV import's, resolved through the owner directory). */
const slackMemberId = z
  .string()
  .transform((v) => v.trim())
  .refine((v) => v === "" || isSlackUserId(v), { message: "owner_slack_id must be a Slack member id like U0123ABCD" })
  .transform((v) => (v === "" ? null : v));

/**
 * The items' schemas over the import's row parsers for one calendar: a bare date is
 * that day in KEEPWARM_TZ, as in a CSV import.
 */
export function ingestItemSchemas(calendar: Calendar) {
  const customer = customerRow(calendar).shape;
  const touch = touchRow(calendar).shape;
  const nps = npsRow(calendar).shape;
  const purchase = purchaseRow(calendar).shape;
  return {
    customers: z.strictObject({
      id: fromText(customer.id).describe("The customer's id in your systems (upsert key)"),
      name: fromText(customer.name).describe("Display name"),
      segment: fromText(customer.segment.unwrap()).optional(),
      lifecycle_stage: fromText(customer.lifecycle_stage.unwrap()).optional(),
      owner_slack_id: fromText(slackMemberId).describe("Slack user id of the owner, like U0123ABCD").optional(),
      tier: fromText(customer.tier.unwrap()).optional(),
      since: fromText(customer.since.unwrap()).describe("Customer since: ISO 8601 date").optional(),
      renewal_date: fromText(customer.renewal_date.unwrap()).describe("ISO 8601 date").optional(),
      churned_at: fromText(customer.churned_at.unwrap()).describe("ISO 8601 date; set when the customer left").optional(),
      loyalty_member: fromBoolean(customer.loyalty_member.unwrap()).describe("true/false (or yes/no/1/0)").optional(),
      attributes: z
        .record(z.string().min(1, "an attribute name is empty").max(100, "an attribute name is longer than 100 characters"), ATTRIBUTE_VALUE)
        .optional(),
    }),
    touches: z.strictObject({
      customer_id: fromText(touch.customer_id),
      occurred_at: fromText(touch.occurred_at).describe("ISO 8601: YYYY-MM-DD (that day in KEEPWARM_TZ) or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; not in the future"),
      kind: fromText(touch.kind.unwrap())
        .describe(`One of ${TOUCH_KINDS.join(", ")} (default other)`)
        .optional(),
      note: fromText(touch.note.unwrap()).optional(),
      logged_by: fromText(touch.logged_by.unwrap()).optional(),
      external_id: fromText(touch.external_id.unwrap()).describe("Your id for this touch: a repeat with the same id is already present").optional(),
    }),
    nps: z.strictObject({
      customer_id: fromText(nps.customer_id),
      responded_at: fromText(nps.responded_at).describe("ISO 8601 date or instant"),
      score: fromNumber(nps.score).describe("Whole number 0–10"),
      comment: fromText(nps.comment.unwrap()).optional(),
      external_id: fromText(nps.external_id.unwrap()).describe("Your id for this response").optional(),
    }),
    purchases: z.strictObject({
      customer_id: fromText(purchase.customer_id),
      occurred_at: fromText(purchase.occurred_at).describe("ISO 8601 date or instant"),
      amount: fromNumber(purchase.amount.unwrap()).describe("In currency units, like 1234.50 (stored in cents)").optional(),
      order_id: fromText(purchase.order_id.unwrap()).describe("Your order id: the same order again is the same purchase").optional(),
    }),
  } as const;
}

/** The schemas as documented (OpenAPI): their shape does not depend on the time zone. */
export const INGEST_ITEMS = ingestItemSchemas(new Calendar("UTC"));
export const customerItem = INGEST_ITEMS.customers;
export const touchItem = INGEST_ITEMS.touches;
export const npsItem = INGEST_ITEMS.nps;
export const purchaseItem = INGEST_ITEMS.purchases;

export interface ItemError {
  /** JSON path into the request body, e.g. `$.items[3].score`. */
  path: string;
  message: string;
}

export type ItemStatus = "created" | "updated" | "already_present" | "invalid";

export interface ItemOutcome {
  index: number;
  status: ItemStatus;
  errors?: ItemError[];
}

export interface IngestResult {
  /** false: some items were invalid and `partial` was not asked for, so nothing was written. */
  committed: boolean;
  items: ItemOutcome[];
  counts: Record<ItemStatus, number>;
  /** Nudges the new touches resolved. */
  resolvedNudges: number;
}

const pathOf = (index: number, path: readonly PropertyKey[]): string =>
  `$.items[${index}]${path.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`)).join("")}`;

function itemErrors(index: number, error: z.ZodError): ItemError[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: pathOf(index, [...issue.path, key]), message: "unknown field" }))
      : [{ path: pathOf(index, issue.path), message: issue.message }],
  );
}

/** Per item: its stored form, or what is wrong with it. */
type Checked<Row> = { index: number; row: Row } | { index: number; errors: ItemError[] };

/**
 * Check then write a batch of items of one kind. All or nothing: when an item is
 * invalid nothing is written, unless `partial` (then the valid ones are). Each kind is
 * written in one transaction, so a fault writes nothing either. Dedupe is the
 * import's: a customer is upserted by id, an NPS response is one per customer and
 * instant, a purchase one per customer, instant and amount, a touch one per exact
 * content (customer, instant, kind, note, logged_by).
 */
export async function ingestItems(
  store: Store,
  kind: ImportKind,
  items: readonly unknown[],
  options: { now: number; partial?: boolean; calendar?: Calendar },
): Promise<IngestResult> {
  const { now } = options;
  const checked = await checkItems(store, kind, items, now, options.calendar);
  const outcomes: ItemOutcome[] = checked.map((c) =>
    "errors" in c ? { index: c.index, status: "invalid", errors: c.errors } : { index: c.index, status: "created" },
  );
  const valid = checked.filter((c): c is { index: number; row: unknown } => "row" in c);
  const result: IngestResult = { committed: false, items: outcomes, counts: { created: 0, updated: 0, already_present: 0, invalid: 0 }, resolvedNudges: 0 };
  const count = () => {
    for (const item of outcomes) result.counts[item.status]++;
  };
  if (valid.length < checked.length && options.partial !== true) {
    count();
    return result;
  }
  const statuses = await writeItems(store, kind, valid, now, result, options.calendar);
  valid.forEach((item, i) => {
    (outcomes[item.index] as ItemOutcome).status = statuses[i] as ItemStatus;
  });
  result.committed = true;
  count();
  return result;
}

/** Per calendar, built once: building the four kinds' zod schemas took most of a single-event request's CPU. */
const schemasByCalendar = new WeakMap<Calendar, ReturnType<typeof ingestItemSchemas>>();
function schemasFor(calendar: Calendar): ReturnType<typeof ingestItemSchemas> {
  let schemas = schemasByCalendar.get(calendar);
  if (schemas === undefined) {
    schemas = ingestItemSchemas(calendar);
    schemasByCalendar.set(calendar, schemas);
  }
  return schemas;
}

/** The API's customer fields: the import's, and the owner as a Slack member id. */
const API_CUSTOMER_COLUMNS = [...CUSTOMER_COLUMNS, ["owner_slack_id", "owner_slack_id"] as const];

async function checkItems(store: Store, kind: ImportKind, items: readonly unknown[], now: number, calendar?: Calendar): Promise<Array<Checked<unknown>>> {
  const schema = calendar === undefined ? INGEST_ITEMS[kind] : schemasFor(calendar)[kind];
  const purchaseKeys = new PurchaseKeys();
  const parsed = items.map((item) => schema.safeParse(item));
  const externalIds = new Set<string>();
  for (const p of parsed) if (p.success && "customer_id" in p.data) externalIds.add(p.data.customer_id);
  const customers = externalIds.size === 0 ? new Map<string, number>() : await customerIdsByExternalIds(store.db, [...externalIds]);
  const customerOf = (externalId: string) => customers.get(externalId) ?? null;
  return parsed.map((p, index): Checked<unknown> => {
    if (!p.success) return { index, errors: itemErrors(index, p.error) };
    const item = items[index] as Record<string, unknown>;
    let row: unknown;
    if (kind === "customers") {
      const value = p.data as z.infer<typeof customerItem>;
      const present = API_CUSTOMER_COLUMNS.filter(([field]) => Object.hasOwn(item, field));
      row = customerUpsertOf(value as Parameters<typeof customerUpsertOf>[0], present, Object.entries(value.attributes ?? {}));
    } else if (kind === "touches") {
      const v = p.data as z.infer<typeof touchItem>;
      const touch = {
        customerId: v.customer_id,
        occurredAt: v.occurred_at,
        kind: v.kind ?? "other",
        note: v.note ?? null,
        loggedBy: v.logged_by ?? null,
        externalId: v.external_id ?? null,
      };
      row = checkTouch(touch, customerOf(v.customer_id), now, String(item.occurred_at));
    } else if (kind === "nps") {
      const v = p.data as z.infer<typeof npsItem>;
      row = checkNps(v, customerOf(v.customer_id));
    } else {
      const v = p.data as z.infer<typeof purchaseItem>;
      row = purchaseKeys.check(v, customerOf(v.customer_id), index + 1);
    }
    return row instanceof RowProblem ? { index, errors: [{ path: pathOf(index, [row.field]), message: row.message }] } : { index, row };
  });
}

/** Write the valid rows; their statuses in the same order. */
async function writeItems(
  store: Store,
  kind: ImportKind,
  valid: ReadonlyArray<{ row: unknown }>,
  now: number,
  result: IngestResult,
  calendar?: Calendar,
): Promise<ItemStatus[]> {
  if (valid.length === 0) return [];
  switch (kind) {
    case "customers": {
      const changes = await writeTransaction(store.db, (trx) =>
        upsertCustomers(
          trx,
          valid.map((v) => v.row as CustomerUpsert),
          now,
        ),
      );
      return changes.outcomes.map((o) => (o === "inserted" ? "created" : o === "updated" ? "updated" : "already_present"));
    }
    case "nps":
    case "purchases": {
      const batch = { kind, rows: valid.map((v) => v.row) } as CheckedInserts;
      const { fresh } = await writeTransaction(store.db, (trx) => writeCheckedInserts(trx, batch, now));
      return fresh.map((isNew) => (isNew ? "created" : "already_present"));
    }
    case "touches": {
      const rows = valid.map((v) => v.row as ImportedTouch);
      // A request is to the API what a file is to the import: identical items in it are distinct touches.
      const occurrences = new TouchOccurrences();
      for (const row of rows) occurrences.number(row);
      const written = await ingestTouches(store, rows, now, cooldownUntil(now, calendar));
      result.resolvedNudges = written.resolvedNudges;
      return written.fresh.map((isNew) => (isNew ? "created" : "already_present"));
    }
  }
}
