import type { Store } from "@keepwarm/store";
import { markOutboxDone, type PendingDelivery, pendingDeliveries, stateLine } from "./pending";
import { type Route, routeKey, routeNudge } from "./route";

const PRIORITY_LABEL: Record<number, string> = { 1: "low", 2: "normal", 3: "high", 4: "urgent" };

export interface ConsoleDeliveryOptions {
  write: (text: string) => void;
  fallbackChannel?: string | undefined;
  digestThreshold?: number;
  now?: number;
}

function header(route: Route, count: number, digest: boolean): string {
  const who = route.kind === "dm" ? `<@${route.user}>` : route.kind === "channel" ? `#${route.channel}` : "nobody (no owner, no KEEPWARM_FALLBACK_CHANNEL)";
  const title = digest ? `Digest for ${who}: ${count} customers need attention` : `Nudge for ${who}`;
  return `\n── ${title} ${"─".repeat(Math.max(3, 64 - title.length))}`;
}

function nudgeText(item: PendingDelivery): string {
  const facts = JSON.parse(item.facts) as Record<string, unknown>;
  const context = [item.segment, item.tier].filter(Boolean).join(" · ");
  const lines = [
    `● [${PRIORITY_LABEL[item.priority] ?? item.priority}] ${item.customerName}${context ? ` (${context})` : ""} — ${item.ruleId}`,
    `  Why:   ${item.explanation}`,
    `  Owner: ${item.ownerSlackId === null ? "none" : `<@${item.ownerSlackId}>`}  ·  last touch ${facts.neverTouched ? "never" : `${String(facts.daysSinceLastTouch)} days ago`}${facts.npsLatest === null || facts.npsLatest === undefined ? "" : `  ·  NPS ${String(facts.npsLatest)}`}`,
  ];
  if (item.action) lines.push(`  Do:    ${item.action}`);
  lines.push(`  Log:   pnpm keepwarm touch ${JSON.stringify(item.customerExternalId)} call today "what you talked about"`);
  return lines.join("\n");
}

/**
 * Console delivery, for running without Slack: drains the outbox and prints nudges
 * as readable text, several for one person as one digest, then marks them delivered.
 */
export function deliverToConsole(store: Store, options: ConsoleDeliveryOptions): { delivered: number; updated: number } {
  const now = options.now ?? Date.now();
  const threshold = options.digestThreshold ?? 3;
  const items = pendingDeliveries(store, Number.MAX_SAFE_INTEGER);
  const groups = new Map<string, { route: Route; items: PendingDelivery[] }>();
  let updated = 0;
  const markDelivered = store.sqlite.prepare("UPDATE nudges SET delivered_at = ?, slack_channel = 'console' WHERE id = ? AND delivered_at IS NULL");
  for (const item of items) {
    if (item.kind !== "deliver") {
      if (item.kind === "update") options.write(`↻ ${item.customerName} (${item.ruleId}): ${stateLine(item, (u) => `<@${u}>`)}`);
      markOutboxDone(store, item.outboxId, now);
      updated++;
      continue;
    }
    if (item.status !== "open") {
      markOutboxDone(store, item.outboxId, now, "skipped", `nudge is ${item.status}`);
      continue;
    }
    const route = routeNudge(item.destination, item.ownerSlackId, options.fallbackChannel);
    const key = routeKey(route);
    const group = groups.get(key) ?? { route, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  let delivered = 0;
  for (const { route, items: group } of groups.values()) {
    group.sort((a, b) => b.priority - a.priority);
    const digest = group.length >= threshold;
    options.write(header(route, group.length, digest));
    for (const item of group) {
      options.write(nudgeText(item));
      store.sqlite.transaction(() => {
        markDelivered.run(now, item.nudgeId);
        markOutboxDone(store, item.outboxId, now);
      })();
      delivered++;
    }
  }
  return { delivered, updated };
}
