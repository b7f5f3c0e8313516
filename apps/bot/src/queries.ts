import { NUDGE_VIEW_COLUMNS, type NudgeView } from "@keepwarm/core";
import type { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";

const NUDGE_VIEW_SELECT = `SELECT ${NUDGE_VIEW_COLUMNS} FROM nudges n JOIN customers c ON c.id = n.customer_id`;

export function nudgeView(store: Store, nudgeId: number): NudgeView | undefined {
  return store.sqlite.prepare(`${NUDGE_VIEW_SELECT} WHERE n.id = ?`).get(nudgeId) as NudgeView | undefined;
}

/** Every nudge shown in one Slack message (one, or several for a digest), in posting order. */
export function nudgesOfMessage(store: Store, channel: string, ts: string): NudgeView[] {
  return store.sqlite
    .prepare(`${NUDGE_VIEW_SELECT} WHERE n.slack_channel = ? AND n.slack_ts = ? ORDER BY n.priority DESC, n.id`)
    .all(channel, ts) as NudgeView[];
}

/** The user's open nudges, most urgent first. */
export function openNudgesOf(store: Store, userId: string, limit: number): NudgeView[] {
  return store.sqlite
    .prepare(`${NUDGE_VIEW_SELECT} WHERE c.owner_slack_id = ? AND n.status = 'open' AND n.held_out = 0 ORDER BY n.priority DESC, n.created_at, n.id LIMIT ?`)
    .all(userId, limit) as NudgeView[];
}

export const QUIET_DAYS = 30;

export interface QuietCustomer {
  id: number;
  externalId: string;
  name: string;
  segment: string | null;
  lastTouchAt: number | null;
  daysQuiet: number | null;
}

/** Customers with no touch for QUIET_DAYS or more (counting from "since" when never touched), quietest first. */
export function quietCustomers(store: Store, ownerSlackId: string | null, now: number, limit: number): { rows: QuietCustomer[]; total: number } {
  const where = `c.churned_at IS NULL ${ownerSlackId === null ? "" : "AND c.owner_slack_id = @owner"}`;
  const base = `SELECT c.id, c.external_id AS externalId, c.name, c.segment,
      coalesce((SELECT max(occurred_at) FROM touchpoints t WHERE t.customer_id = c.id), c.since_at) AS lastTouchAt
    FROM customers c WHERE ${where}`;
  const params = { owner: ownerSlackId, cutoff: now - QUIET_DAYS * DAY_MS, limit };
  const bind = ownerSlackId === null ? { cutoff: params.cutoff, limit } : params;
  const rows = store.sqlite
    .prepare(`SELECT * FROM (${base}) WHERE lastTouchAt IS NULL OR lastTouchAt <= @cutoff ORDER BY lastTouchAt IS NOT NULL, lastTouchAt, name LIMIT @limit`)
    .all(bind) as Array<Omit<QuietCustomer, "daysQuiet">>;
  const { total } = store.sqlite
    .prepare(`SELECT count(*) AS total FROM (${base}) WHERE lastTouchAt IS NULL OR lastTouchAt <= @cutoff`)
    .get(ownerSlackId === null ? { cutoff: params.cutoff } : { owner: ownerSlackId, cutoff: params.cutoff }) as { total: number };
  return { rows: rows.map((r) => ({ ...r, daysQuiet: r.lastTouchAt === null ? null : Math.floor((now - r.lastTouchAt) / DAY_MS) })), total };
}

export interface BasicStats {
  quiet: number;
  touchesThisWeek: number;
  openNudges: number;
  weekStart: number;
}

/** Touches since Monday 00:00 in the keepwarm time zone; quiet customers and open nudges now. */
export function basicStats(store: Store, now: number, calendar: Calendar, ownerSlackId: string | null): BasicStats {
  const today = calendar.dayNumber(now);
  // Day 0 (1970-01-01) was a Thursday: Monday-based weekday = (day + 3) mod 7.
  const weekStart = calendar.startOfDay(today - ((today + 3) % 7));
  const ownerFilter = ownerSlackId === null ? "" : "AND c.owner_slack_id = @owner";
  const bind = (extra: Record<string, unknown>) => (ownerSlackId === null ? extra : { ...extra, owner: ownerSlackId });
  const touches = store.sqlite
    .prepare(
      `SELECT count(*) AS n FROM touchpoints t JOIN customers c ON c.id = t.customer_id WHERE t.occurred_at >= @from AND t.occurred_at <= @now ${ownerFilter}`,
    )
    .get(bind({ from: weekStart, now })) as { n: number };
  const open = store.sqlite
    .prepare(`SELECT count(*) AS n FROM nudges n JOIN customers c ON c.id = n.customer_id WHERE n.status = 'open' AND n.held_out = 0 ${ownerFilter}`)
    .get(bind({})) as { n: number };
  return { quiet: quietCustomers(store, ownerSlackId, now, 1).total, touchesThisWeek: touches.n, openNudges: open.n, weekStart };
}

/** Whether this user owns any customer (their stats are then theirs, else the team's). */
export function ownsCustomers(store: Store, userId: string): boolean {
  return store.sqlite.prepare("SELECT 1 FROM customers WHERE owner_slack_id = ? LIMIT 1").get(userId) !== undefined;
}

export function recentTouches(
  store: Store,
  customerId: number,
  limit: number,
): Array<{ kind: string; occurredAt: number; loggedBy: string | null; note: string | null }> {
  return store.sqlite
    .prepare(
      "SELECT kind, occurred_at AS occurredAt, logged_by AS loggedBy, note FROM touchpoints WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
    )
    .all(customerId, limit) as Array<{ kind: string; occurredAt: number; loggedBy: string | null; note: string | null }>;
}

export function npsHistory(store: Store, customerId: number, limit: number): Array<{ score: number; respondedAt: number }> {
  return store.sqlite
    .prepare("SELECT score, responded_at AS respondedAt FROM nps_responses WHERE customer_id = ? ORDER BY responded_at DESC LIMIT ?")
    .all(customerId, limit) as Array<{ score: number; respondedAt: number }>;
}

export function liveNudgesOfCustomer(store: Store, customerId: number): NudgeView[] {
  return store.sqlite
    .prepare(`${NUDGE_VIEW_SELECT} WHERE n.customer_id = ? AND n.status IN ('open','snoozed') AND n.held_out = 0 ORDER BY n.priority DESC`)
    .all(customerId) as NudgeView[];
}

/**
 * The user's open nudges not yet sent by DM: over the daily nudge budget, or not
 * delivered yet. They are on the App Home meanwhile and arrive by DM on a later day.
 */
export function waitingNudgesOf(store: Store, userId: string): number {
  return store.sqlite
    .prepare(
      `SELECT count(*) FROM nudges n JOIN customers c ON c.id = n.customer_id
         WHERE c.owner_slack_id = ? AND n.status = 'open' AND n.held_out = 0 AND n.delivered_at IS NULL AND n.destination = 'owner'
           AND EXISTS (SELECT 1 FROM outbox o WHERE o.nudge_id = n.id AND o.kind = 'deliver' AND o.status = 'pending')`,
    )
    .pluck()
    .get(userId) as number;
}
