import { customerItem, npsItem, purchaseItem, SNOOZE_DAYS, touchItem } from "@keepwarm/core";
import { NUDGE_STATUSES, PING_EVENT_TYPE, WEBHOOK_EVENT_TYPES } from "@keepwarm/store";
import { z } from "zod";

/** The API's request and response bodies: parsed with these, and the OpenAPI document is generated from them. */

export const MAX_BATCH_ITEMS = 1000;

export const errorBody = z.object({ error: z.string().describe("One line saying what is wrong") }).meta({ id: "Error" });

/** A batch of one kind's items; `partial` writes the valid items even when some are invalid. */
export const batchBody = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item).min(1, "is empty").max(MAX_BATCH_ITEMS, `has more than ${MAX_BATCH_ITEMS} items (send at most ${MAX_BATCH_ITEMS} per request)`),
    partial: z.boolean().optional().describe("Write the valid items even when some are invalid (default false: all or nothing)"),
  });

export const INGEST_BODIES = {
  customers: batchBody(customerItem.meta({ id: "CustomerItem" })),
  touches: batchBody(touchItem.meta({ id: "TouchItem" })),
  nps: batchBody(npsItem.meta({ id: "NpsItem" })),
  purchases: batchBody(purchaseItem.meta({ id: "PurchaseItem" })),
} as const;

/** The envelope alone: items are then checked one by one, so each gets its own answer. */
export const batchEnvelope = batchBody(z.unknown());

const itemError = z.object({ path: z.string().describe("JSON path into the request body, e.g. $.items[3].score"), message: z.string() });

export const ingestResponse = z
  .object({
    committed: z.boolean().describe("false: some items were invalid and partial was not set, so nothing was written"),
    counts: z.object({ created: z.int(), updated: z.int(), already_present: z.int(), invalid: z.int() }),
    resolved_nudges: z.int().describe("Nudges the new touches resolved"),
    items: z.array(
      z.object({
        index: z.int(),
        status: z.enum(["created", "updated", "already_present", "invalid"]),
        errors: z.array(itemError).optional(),
      }),
    ),
    error: z.string().optional(),
  })
  .meta({ id: "IngestResult" });

const instant = z.iso.datetime().describe("ISO 8601, UTC");

export const nudgeBody = z
  .object({
    id: z.int(),
    rule_id: z.string(),
    status: z.enum(NUDGE_STATUSES),
    priority: z.int(),
    explanation: z.string(),
    message: z.string(),
    action: z.string().nullable(),
    customer: z.object({ id: z.string(), name: z.string(), owner_slack_id: z.string().nullable(), segment: z.string().nullable() }),
    created_at: instant,
    snoozed_until: instant.nullable(),
    closed_by: z.string().nullable(),
    close_reason: z.string().nullable(),
    close_note: z.string().nullable(),
  })
  .meta({ id: "Nudge" });

export const nudgesResponse = z.object({
  nudges: z.array(nudgeBody),
  next_before: z.int().nullable().describe("Pass as `before` for the next page; null on the last page"),
});

export const nudgesQuery = z.strictObject({
  status: z.enum(NUDGE_STATUSES).optional(),
  owner: z.string().max(40).optional().describe("Slack user id of the customer's owner"),
  rule: z.string().max(100).optional().describe("Rule id"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional().describe("Only nudges with a smaller id (paging)"),
});

const by = z.string().trim().min(1).max(100).optional().describe("Who did it (default api:<token name>)");
export const snoozeBody = z.strictObject({
  days: z.union(SNOOZE_DAYS.map((d) => z.literal(d)) as unknown as [z.ZodLiteral<number>, z.ZodLiteral<number>], {
    error: `days is one of ${SNOOZE_DAYS.join(", ")}`,
  }),
  by,
});
export const dismissBody = z.strictObject({ reason: z.string().max(500).optional(), by });
export const resolveBody = z.strictObject({ note: z.string().max(500).optional(), by });
export const nudgeActionResponse = z.object({ nudge: nudgeBody });

export const customerResponse = z
  .object({
    customer: z.object({
      id: z.string(),
      name: z.string(),
      segment: z.string().nullable(),
      lifecycle_stage: z.string().nullable(),
      owner_slack_id: z.string().nullable(),
      tier: z.string().nullable(),
      since: instant.nullable(),
      renewal_date: instant.nullable(),
      churned_at: instant.nullable(),
      loyalty_member: z.boolean(),
      attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      created_at: instant,
      updated_at: instant,
    }),
    facts: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .nullable()
      .describe("The active rules' facts now (null when the customer is not active: not started or churned)"),
    health: z
      .object({ score: z.number().nullable(), grade: z.string().nullable(), change_30_days: z.number().nullable(), summary: z.array(z.string()) })
      .nullable()
      .describe("The health score of the active rules' health block (null without one)"),
    open_nudges: z.array(nudgeBody),
  })
  .meta({ id: "Customer" });

export const statsQuery = z.strictObject({
  since: z.string().max(40).optional().describe("YYYY-MM-DD (default: 90 days before until)"),
  until: z.string().max(40).optional().describe("YYYY-MM-DD (default: now)"),
  segment: z.string().max(100).optional(),
});
export const statsResponse = z.record(z.string(), z.unknown()).describe("The same object as `keepwarm stats --json`").meta({ id: "Stats" });

const customerRef = z.object({ id: z.string(), name: z.string(), owner_slack_id: z.string().nullable(), segment: z.string().nullable() });

export const touchBody = z
  .object({
    id: z.int(),
    kind: z.string(),
    occurred_at: instant,
    logged_at: instant,
    logged_by: z.string().nullable(),
    note: z.string().nullable(),
    source: z.string().describe("cli, slack, modal, import (CSV import and the API's /touches)"),
    customer: customerRef,
  })
  .meta({ id: "Touch" });

const eventEnvelope = <T extends z.ZodType>(type: string, data: T) =>
  z.object({
    id: z.string().describe("The event's stable id (evt_…): the same in every retry; dedupe on it"),
    type: z.literal(type),
    occurred_at: instant.describe("When the change happened"),
    data,
  });

/** The body of each webhook event (documented in the OpenAPI document's `webhooks`). */
export const WEBHOOK_EVENT_BODIES: Record<string, z.ZodType> = {
  ...Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      type === "touch.created" ? eventEnvelope(type, z.object({ touch: touchBody })) : eventEnvelope(type, z.object({ nudge: nudgeBody })),
    ]),
  ),
  [PING_EVENT_TYPE]: eventEnvelope(PING_EVENT_TYPE, z.object({ webhook_id: z.int(), message: z.string() })),
};
