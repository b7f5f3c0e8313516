import { randomUUID } from "node:crypto";
import type { Db } from "../engine/transaction";
import type { NudgeStatus } from "../tables/nudges.table";
import { type NudgeEventType, PING_EVENT_TYPE } from "../tables/webhooks.table";
import { type NudgeView, selectNudgeViews } from "./nudge-views";
import { enqueueOutbox } from "./outbox";
import { webhookSubscriptions } from "./webhooks";

/**
 * Webhook events, written in the transaction of the state change that causes them:
 * the event row (its stable id and the exact body every attempt sends) and one outbox
 * item per subscribed webhook commit with the change or not at all. Nothing is written
 * when no live webhook subscribes to the type, so an install without webhooks pays one
 * read of the (empty) webhooks table per change.
 */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A nudge as other systems see it: the API's `Nudge` and the `nudge` of a webhook event. */
export interface NudgeResource {
  id: number;
  rule_id: string;
  status: NudgeStatus;
  priority: number;
  explanation: string;
  message: string;
  action: string | null;
  customer: { id: string; name: string; owner_slack_id: string | null; segment: string | null };
  created_at: string;
  snoozed_until: string | null;
  closed_by: string | null;
  close_reason: string | null;
  close_note: string | null;
}

export function nudgeResource(view: NudgeView): NudgeResource {
  return {
    id: view.nudgeId,
    rule_id: view.ruleId,
    status: view.status,
    priority: view.priority,
    explanation: view.explanation,
    message: view.message,
    action: view.action,
    customer: { id: view.customerExternalId, name: view.customerName, owner_slack_id: view.ownerSlackId, segment: view.segment },
    created_at: iso(view.createdAt) as string,
    snoozed_until: iso(view.snoozedUntil),
    closed_by: view.closedBy,
    close_reason: view.closeReason,
    close_note: view.closeNote,
  };
}

/** A touch as a webhook event carries it. */
export interface TouchResource {
  id: number;
  kind: string;
  occurred_at: string;
  logged_at: string;
  logged_by: string | null;
  note: string | null;
  source: string;
  customer: { id: string; name: string; owner_slack_id: string | null; segment: string | null };
}

/** Every event's body: `data` holds the nudge or the touch as it was when the event happened. */
export interface WebhookEventBody {
  id: string;
  type: string;
  occurred_at: string;
  data: { nudge: NudgeResource } | { touch: TouchResource } | { webhook_id: number; message: string };
}

/** Ids per query and rows per INSERT: under both engines' bound-parameter limits. */
const BATCH = 1000;

export const newEventId = (): string => `evt_${randomUUID().replaceAll("-", "")}`;

/** Write the events and their outbox items for these webhooks; returns the event rows' ids in `bodies` order. */
async function writeEvents(trx: Db, bodies: readonly WebhookEventBody[], webhookIds: readonly number[], now: number): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < bodies.length; start += BATCH) {
    const part = bodies.slice(start, start + BATCH);
    const rows = await trx
      .insertInto("webhook_events")
      .values(part.map((body) => ({ event_id: body.id, type: body.type, occurred_at: now, payload: JSON.stringify(body) })))
      .returning(["id", "event_id"])
      .execute();
    // Matched by event id: neither engine promises RETURNING in VALUES order.
    const byEventId = new Map(rows.map((row) => [row.event_id, Number(row.id)]));
    const batchIds = part.map((body) => byEventId.get(body.id) as number);
    ids.push(...batchIds);
    await enqueueOutbox(
      trx,
      batchIds.flatMap((webhookEventId) => webhookIds.map((webhookId) => ({ kind: "webhook" as const, webhookId, webhookEventId }))),
      now,
    );
  }
  return ids;
}

async function subscribers(trx: Db, type: string): Promise<number[]> {
  return (await webhookSubscriptions(trx)).filter((hook) => hook.events.has(type)).map((hook) => hook.id);
}

/**
 * Emit `type` for these nudges, as they are now in `trx` (after the change). Held-out
 * nudges (a holdout experiment's control group) emit nothing, whatever happens to them:
 * a receiver acting on them would spoil the experiment.
 */
export async function emitNudgeEvents(trx: Db, type: NudgeEventType, nudgeIds: readonly number[], now: number): Promise<void> {
  if (nudgeIds.length === 0) return;
  const webhookIds = await subscribers(trx, type);
  if (webhookIds.length === 0) return;
  const at = iso(now) as string;
  for (let start = 0; start < nudgeIds.length; start += BATCH) {
    const part = nudgeIds.slice(start, start + BATCH);
    const views = await selectNudgeViews(trx).where("n.id", "in", part).where("n.held_out", "=", 0).orderBy("n.id").execute();
    await writeEvents(
      trx,
      views.map((view) => ({ id: newEventId(), type, occurred_at: at, data: { nudge: nudgeResource(view) } })),
      webhookIds,
      now,
    );
  }
}

/** Emit touch.created for these touches (just written in `trx`). */
export async function emitTouchEvents(trx: Db, touchIds: readonly number[], now: number): Promise<void> {
  if (touchIds.length === 0) return;
  const webhookIds = await subscribers(trx, "touch.created");
  if (webhookIds.length === 0) return;
  const at = iso(now) as string;
  for (let start = 0; start < touchIds.length; start += BATCH) {
    const part = touchIds.slice(start, start + BATCH);
    const rows = await trx
      .selectFrom("touchpoints as t")
      .innerJoin("customers as c", "c.id", "t.customer_id")
      .select([
        "t.id",
        "t.kind",
        "t.occurred_at as occurredAt",
        "t.logged_at as loggedAt",
        "t.logged_by as loggedBy",
        "t.note",
        "t.source",
        "c.external_id as customerId",
        "c.name as customerName",
        "c.owner_slack_id as ownerSlackId",
        "c.segment",
      ])
      .where("t.id", "in", part)
      .orderBy("t.id")
      .execute();
    await writeEvents(
      trx,
      rows.map((row) => ({
        id: newEventId(),
        type: "touch.created",
        occurred_at: at,
        data: {
          touch: {
            id: Number(row.id),
            kind: row.kind,
            occurred_at: iso(Number(row.occurredAt)) as string,
            logged_at: iso(Number(row.loggedAt)) as string,
            logged_by: row.loggedBy,
            note: row.note,
            source: row.source,
            customer: { id: row.customerId, name: row.customerName, owner_slack_id: row.ownerSlackId, segment: row.segment },
          },
        },
      })),
      webhookIds,
      now,
    );
  }
}

/** A webhook.ping for one webhook (`keepwarm webhooks test`), whatever it subscribes to; returns the event id. */
export async function emitPing(trx: Db, webhookId: number, now: number): Promise<string> {
  const body: WebhookEventBody = {
    id: newEventId(),
    type: PING_EVENT_TYPE,
    occurred_at: iso(now) as string,
    data: { webhook_id: webhookId, message: "keepwarm webhooks test: this webhook is set up" },
  };
  await writeEvents(trx, [body], [webhookId], now);
  return body.id;
}
