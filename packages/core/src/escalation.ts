import { type Calendar, isSlackUserId, type Rule, validateRuleFileText } from "@keepwarm/rules";
import { escalationCandidates, escalationNudge, markEscalated, ruleSetRow, type Store } from "@keepwarm/store";
import { isoDate } from "./dates";
import type { ActiveRuleSet } from "./rule-sets";

export interface EscalatedNudge {
  nudgeId: number;
  ruleId: string;
  customerId: number;
}

/**
 * Escalate, once, every nudge left open for its rule's `escalateAfterDays`:
 * the clock starts when the rep received it (delivered_at) — an undelivered or
 * held-out nudge is nobody's fault — and counts calendar days in KEEPWARM_TZ, so a
 * sweep at 09:00 on day N escalates a nudge delivered at 09:00:05 on day 0.
 * A snoozed nudge waits: it is escalated on a later sweep once it is open again.
 * Sets escalated_at and enqueues one `escalate` outbox item in one transaction;
 * escalated_at IS NULL in the UPDATE makes a second escalation impossible.
 */
export async function escalateOverdueNudges(store: Store, ruleSet: ActiveRuleSet, options: { now: number; calendar: Calendar }): Promise<EscalatedNudge[]> {
  const days = new Map<string, number>();
  for (const rule of ruleSet.ruleFile.rules) {
    if (rule.enabled && rule.nudge.escalateAfterDays !== undefined) days.set(rule.id, rule.nudge.escalateAfterDays);
  }
  if (days.size === 0) return [];
  const due = (await escalationCandidates(store.db, options.now)).filter((c) => {
    const after = days.get(c.ruleId);
    // A claimed nudge's clock restarts at the claim: whoever took the customer gets the rule's full time.
    return after !== undefined && options.calendar.daysBetween(c.claimedAt ?? c.deliveredAt, options.now) >= after;
  });
  const escalated = new Set(
    await markEscalated(
      store.db,
      due.map((c) => c.nudgeId),
      options.now,
    ),
  );
  return due.filter((c) => escalated.has(c.nudgeId)).map((c) => ({ nudgeId: c.nudgeId, ruleId: c.ruleId, customerId: c.customerId }));
}

export interface EscalationConfig {
  /** Rep Slack id → manager Slack id (KEEPWARM_MANAGERS). */
  managers: Readonly<Record<string, string>>;
  /** KEEPWARM_ESCALATION_CHANNEL. */
  escalationChannel?: string | undefined;
}

export type EscalationRoute = { kind: "dm"; user: string; why: string } | { kind: "channel"; channel: string; why: string } | { kind: "unrouted"; why: string };

/**
 * Where an escalation goes: the rule's `escalateTo`, else the owner's manager, else
 * KEEPWARM_ESCALATION_CHANNEL. Decided at delivery, like nudges, so a fixed config counts.
 */
export function routeEscalation(escalateTo: string | undefined, ownerSlackId: string | null, config: EscalationConfig): EscalationRoute {
  const target = (value: string, why: string): EscalationRoute =>
    isSlackUserId(value) ? { kind: "dm", user: value, why } : { kind: "channel", channel: value.replace(/^#/, ""), why };
  if (escalateTo !== undefined) return target(escalateTo, "the rule's escalateTo");
  const manager = ownerSlackId === null ? undefined : config.managers[ownerSlackId];
  if (manager !== undefined) return target(manager, `manager of <@${ownerSlackId}> (KEEPWARM_MANAGERS)`);
  if (config.escalationChannel !== undefined) return target(config.escalationChannel, "KEEPWARM_ESCALATION_CHANNEL");
  return { kind: "unrouted", why: "no rule escalateTo, no manager in KEEPWARM_MANAGERS for the owner, no KEEPWARM_ESCALATION_CHANNEL" };
}

export interface EscalationDetails {
  nudgeId: number;
  route: EscalationRoute;
  ruleId: string;
  ruleName: string;
  customerExternalId: string;
  customerName: string;
  ownerSlackId: string | null;
  explanation: string;
  createdAt: number;
  deliveredAt: number | null;
  escalatedAt: number | null;
  /** Only the latest snooze is stored on the nudge. */
  lastSnooze: { by: string | null; until: number | null } | null;
  status: string;
  /** The history as lines, ready for the console or a Slack message. */
  history: string[];
}

const ruleCache = new Map<string, Rule | undefined>();

async function ruleOf(store: Store, version: number, ruleId: string): Promise<Rule | undefined> {
  const key = `${store.location}\u0000${version}\u0000${ruleId}`;
  if (ruleCache.has(key)) return ruleCache.get(key);
  const json = (await ruleSetRow(store.db, version))?.json;
  const parsed = json === undefined ? undefined : validateRuleFileText(json);
  const rule = parsed?.valid ? parsed.ruleFile.rules.find((r) => r.id === ruleId) : undefined;
  ruleCache.set(key, rule);
  return rule;
}

/** Everything an escalation message shows: who, why, and what happened to the nudge so far. */
export async function escalationDetails(store: Store, nudgeId: number, config: EscalationConfig): Promise<EscalationDetails | undefined> {
  const row = await escalationNudge(store.db, nudgeId);
  if (row === undefined) return undefined;
  const rule = await ruleOf(store, row.version, row.ruleId);
  const route = routeEscalation(rule?.nudge.escalateTo, row.ownerSlackId, config);
  const when = (ms: number) => `${isoDate(ms)} ${new Date(ms).toISOString().slice(11, 16)} UTC`;
  const owner = row.ownerSlackId === null ? "no owner" : `<@${row.ownerSlackId}>`;
  const lastSnooze = row.snoozedBy === null ? null : { by: row.snoozedBy, until: row.snoozedUntil };
  const history = [
    `created ${when(row.createdAt)} by rule "${rule?.name ?? row.ruleId}" (${row.ruleId}, rules v${row.version}): ${row.explanation}`,
    row.deliveredAt === null ? "never delivered" : `delivered to ${owner} ${when(row.deliveredAt)}`,
    lastSnooze === null ? "never snoozed" : `snoozed by ${lastSnooze.by ?? "someone"}${lastSnooze.until === null ? "" : ` until ${isoDate(lastSnooze.until)}`}`,
    row.escalatedAt === null ? `status: ${row.status}` : `still ${row.status} when escalated ${when(row.escalatedAt)}`,
  ];
  return {
    nudgeId: row.id,
    route,
    ruleId: row.ruleId,
    ruleName: rule?.name ?? row.ruleId,
    customerExternalId: row.customerExternalId,
    customerName: row.customerName,
    ownerSlackId: row.ownerSlackId,
    explanation: row.explanation,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
    escalatedAt: row.escalatedAt,
    lastSnooze,
    status: row.status,
    history,
  };
}
