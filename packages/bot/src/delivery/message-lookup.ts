import type { webApi } from "@slack/bolt";

/**
 * Slack's limits on `conversations.history` since 2025 for apps distributed outside
 * its Marketplace: one request per minute (per workspace) and at most 15 messages per
 * request. Delivery never pages history: an unknown outcome costs one call, spaced by
 * a workspace-wide allowance kept in the database (lease `slack.history`).
 */
export const HISTORY_INTERVAL_MS = 60_000;
export const HISTORY_MAX_MESSAGES = 15;
/** The look-up window around a recorded intent: clock skew before it; the call's 15 s timeout and a margin after. */
export const LOOKUP_BEFORE_MS = 5_000;
export const LOOKUP_AFTER_MS = 25_000;

export interface LookupAnswer {
  /** Outbox id → ts of the message that carries it in its metadata. */
  found: Map<number, string>;
  /** Slack had more messages in the window than one answer holds (a very busy channel). */
  truncated: boolean;
}

/** Seconds with microseconds, as Slack writes `ts`, `oldest` and `latest`. */
const slackTs = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(6);

/**
 * One bounded look-up: the messages of `channel` sent between the earliest intent
 * minus LOOKUP_BEFORE_MS and the latest plus LOOKUP_AFTER_MS, at most 15, matched by
 * the outbox ids in their metadata. Outbox ids, not nudge ids: a snoozed nudge's
 * re-delivery is a new outbox item, so the original message never answers for it.
 */
export async function lookUpPosted(
  client: webApi.WebClient,
  request: { channel: string; eventType: string; outboxIds: readonly number[]; from: number; to: number },
): Promise<LookupAnswer> {
  const wanted = new Set(request.outboxIds);
  const result = await client.conversations.history({
    channel: request.channel,
    oldest: slackTs(request.from - LOOKUP_BEFORE_MS),
    latest: slackTs(request.to + LOOKUP_AFTER_MS),
    inclusive: true,
    limit: HISTORY_MAX_MESSAGES,
    include_all_metadata: true,
  });
  const found = new Map<number, string>();
  for (const message of result.messages ?? []) {
    const metadata = message.metadata as { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
    if (metadata?.event_type !== request.eventType || message.ts === undefined) continue;
    for (const id of outboxIdsOf(metadata.event_payload ?? {})) if (wanted.has(id) && !found.has(id)) found.set(id, message.ts);
  }
  return { found, truncated: result.has_more === true };
}

/** The metadata a keepwarm message carries: nudge and outbox ids (a digest lists them as "1,2,3": metadata values are scalars). */
export function deliveryMetadata(eventType: string, items: ReadonlyArray<{ nudgeId: number; outboxId: number }>) {
  const first = items[0];
  return {
    event_type: eventType,
    event_payload:
      items.length === 1
        ? { nudge_id: first?.nudgeId ?? 0, outbox_id: first?.outboxId ?? 0 }
        : {
            nudge_id: first?.nudgeId ?? 0,
            outbox_id: first?.outboxId ?? 0,
            nudge_ids: items.map((i) => i.nudgeId).join(","),
            outbox_ids: items.map((i) => i.outboxId).join(","),
          },
  };
}

function outboxIdsOf(payload: Record<string, unknown>): number[] {
  if (typeof payload.outbox_ids === "string") return payload.outbox_ids.split(",").map(Number);
  return payload.outbox_id === undefined ? [] : [Number(payload.outbox_id)];
}
