import type { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { DAY_MS, markDeliveredOnConsole, ownerNames } from "@keepwarm/store";
import type { Env } from "../env";
import { type EscalationConfig, escalationDetails } from "../escalation";
import { applyNudgeBudget } from "./budget";
import { deliveredSinceByOwner, markOutboxDone, type PendingDelivery, pendingDeliveries, stateLine } from "./pending";
import { type Route, routeKey, routeNudge } from "./route";

const PRIORITY_LABEL: Record<number, string> = { 1: "low", 2: "normal", 3: "high", 4: "urgent" };

export interface ConsoleDeliveryOptions {
  write: (text: string) => void;
  fallbackChannel?: string | undefined;
  digestThreshold?: number;
  now?: number;
  /** KEEPWARM_MAX_NUDGES_PER_DAY: DMs per rep and day; the rest stay queued. */
  maxNudgesPerDay?: number;
  /** Where "today" starts for the budget (KEEPWARM_TZ); UTC without it. */
  calendar?: Calendar;
  escalation?: EscalationConfig;
}

/** A rep as the console shows them: the directory's name (`keepwarm owners sync`), else the Slack mention. */
type RepLabel = (slackId: string) => string;

function header(route: Route, count: number, digest: boolean, rep: RepLabel): string {
  const who = route.kind === "dm" ? rep(route.user) : route.kind === "channel" ? `#${route.channel}` : "nobody (no owner, no KEEPWARM_FALLBACK_CHANNEL)";
  const title = digest ? `Digest for ${who}: ${count} customers need attention` : `Nudge for ${who}`;
  return `\n── ${title} ${"─".repeat(Math.max(3, 64 - title.length))}`;
}

function nudgeText(item: PendingDelivery, rep: RepLabel): string {
  const facts = JSON.parse(item.facts) as Record<string, unknown>;
  const context = [item.segment, item.tier].filter(Boolean).join(" · ");
  const lines = [
    `● [${PRIORITY_LABEL[item.priority] ?? item.priority}] ${item.customerName}${context ? ` (${context})` : ""} — ${item.ruleId}`,
    `  Why:   ${item.explanation}`,
    // A nudge keeps the facts its sweep computed: the last touch and NPS when some rule read them.
    `  Owner: ${item.ownerSlackId === null ? "none" : rep(item.ownerSlackId)}${facts.neverTouched === true ? "  ·  last touch never" : facts.daysSinceLastTouch === undefined ? "" : `  ·  last touch ${String(facts.daysSinceLastTouch)} ${facts.daysSinceLastTouch === 1 ? "day" : "days"} ago`}${facts.npsLatest === null || facts.npsLatest === undefined ? "" : `  ·  NPS ${String(facts.npsLatest)}`}`,
  ];
  if (item.action) lines.push(`  Do:    ${item.action}`);
  lines.push(`  Log:   pnpm keepwarm touch ${JSON.stringify(item.customerExternalId)} call today "what you talked about"`);
  return lines.join("\n");
}

/**
 * Console delivery, for running without Slack: drains the outbox and prints nudges
 * as readable text, several for one person as one digest, then marks them delivered.
 */
/** The console delivery settings that come from the environment (budget, escalation, fallback, digest). */
export function consoleDeliveryConfig(
  env: Pick<
    Env,
    "KEEPWARM_FALLBACK_CHANNEL" | "KEEPWARM_DIGEST_THRESHOLD" | "KEEPWARM_MAX_NUDGES_PER_DAY" | "KEEPWARM_MANAGERS" | "KEEPWARM_ESCALATION_CHANNEL"
  >,
  calendar: Calendar,
): Omit<ConsoleDeliveryOptions, "write" | "now"> {
  return {
    fallbackChannel: env.KEEPWARM_FALLBACK_CHANNEL,
    digestThreshold: env.KEEPWARM_DIGEST_THRESHOLD,
    maxNudgesPerDay: env.KEEPWARM_MAX_NUDGES_PER_DAY,
    calendar,
    escalation: { managers: env.KEEPWARM_MANAGERS, escalationChannel: env.KEEPWARM_ESCALATION_CHANNEL },
  };
}

async function escalationText(store: Store, nudgeId: number, config: EscalationConfig): Promise<{ text: string; routed: boolean } | undefined> {
  const details = await escalationDetails(store, nudgeId, config);
  if (details === undefined) return undefined;
  const route = details.route;
  const to = route.kind === "dm" ? `<@${route.user}>` : route.kind === "channel" ? `#${route.channel}` : "nobody";
  const lines = [
    `\n── Escalation to ${to} (${route.why}) ${"─".repeat(8)}`,
    `⚠ ${details.customerName} (${details.customerExternalId}): nudge #${details.nudgeId} still open`,
  ];
  for (const line of details.history) lines.push(`  · ${line}`);
  return { text: lines.join("\n"), routed: route.kind !== "unrouted" };
}

export async function deliverToConsole(
  store: Store,
  options: ConsoleDeliveryOptions,
): Promise<{ delivered: number; updated: number; deferred: number; escalated: number }> {
  const now = options.now ?? Date.now();
  const threshold = options.digestThreshold ?? 3;
  const items = await pendingDeliveries(store, Number.MAX_SAFE_INTEGER);
  const groups = new Map<string, { route: Route; items: PendingDelivery[] }>();
  let updated = 0;
  let escalated = 0;
  const budgetItems: Array<PendingDelivery & { recipient: string | null; route: Route }> = [];
  for (const item of items) {
    if (item.kind === "escalate") {
      const shown = await escalationText(store, item.nudgeId, options.escalation ?? { managers: {} });
      if (shown !== undefined) options.write(shown.text);
      if (shown?.routed) {
        await markOutboxDone(store, item.outboxId, now);
        escalated++;
      } else await markOutboxDone(store, item.outboxId, now, "skipped", "no escalation target");
      continue;
    }
    if (item.kind !== "deliver") {
      if (item.kind === "update") options.write(`↻ ${item.customerName} (${item.ruleId}): ${stateLine(item, (u) => `<@${u}>`)}`);
      await markOutboxDone(store, item.outboxId, now);
      updated++;
      continue;
    }
    if (item.status !== "open") {
      await markOutboxDone(store, item.outboxId, now, "skipped", `nudge is ${item.status}`);
      continue;
    }
    const route = routeNudge(item.destination, item.ownerSlackId, options.fallbackChannel);
    budgetItems.push({ ...item, route, recipient: route.kind === "dm" ? route.user : null });
  }
  const dayStart = options.calendar === undefined ? Math.floor(now / DAY_MS) * DAY_MS : options.calendar.startOfDay(options.calendar.dayNumber(now));
  // Over-budget items stay pending in the outbox: a later day's delivery picks them up.
  const budget = applyNudgeBudget(budgetItems, await deliveredSinceByOwner(store, dayStart), options.maxNudgesPerDay ?? Number.MAX_SAFE_INTEGER);
  for (const item of budget.now) {
    const route = item.route;
    const key = routeKey(route);
    const group = groups.get(key) ?? { route, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  let delivered = 0;
  const names = await ownerNames(
    store.db,
    [...budget.now].flatMap((item) => [item.ownerSlackId ?? "", item.recipient ?? ""]).filter((id) => id !== ""),
  );
  const rep: RepLabel = (slackId) => {
    const name = names.get(slackId);
    return name ?? `<@${slackId}>`;
  };
  for (const { route, items: group } of groups.values()) {
    group.sort((a, b) => b.priority - a.priority);
    const digest = group.length >= threshold;
    options.write(header(route, group.length, digest, rep));
    for (const item of group) {
      options.write(nudgeText(item, rep));
      await markDeliveredOnConsole(store.db, { nudgeId: item.nudgeId, outboxId: item.outboxId, now });
      delivered++;
    }
  }
  if (budget.deferred.length > 0) {
    const more = budget.deferred.length;
    options.write(`\n(${more} more nudge${more === 1 ? "" : "s"} wait for tomorrow: at most ${options.maxNudgesPerDay} per rep and day)`);
  }
  return { delivered, updated, deferred: budget.deferred.length, escalated };
}
