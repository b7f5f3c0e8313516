import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { tempDir } from "@keepwarm/testkit";
import { runSweep, type SweepOptions, type SweepReport } from "../src/index";

/** A fixed instant, so "days ago" never depends on when the suite runs. */
export const NOW = Date.parse("2026-06-15T12:00:00Z");
export const UTC = new Calendar("UTC");
export const daysBefore = (days: number, from = NOW): number => from - days * DAY_MS;
export const daysAfter = (days: number, from = NOW): number => from + days * DAY_MS;

export interface Fixture {
  store: Store;
  path: string;
  close(): Promise<void>;
}

/** A fresh, migrated SQLite file in its own temp folder. */
export async function freshStore(): Promise<Fixture> {
  const tmp = tempDir("keepwarm-core-");
  const path = tmp.file("keepwarm.db");
  const store = await openStore(path);
  return {
    store,
    path,
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

export interface CustomerSpec {
  id: string;
  name?: string;
  segment?: string | null;
  since?: number | null;
  loyalty?: boolean;
  owner?: string | null;
}

/** Inserts a customer that existed long before NOW; returns its row id. */
export function addCustomer(store: Store, spec: CustomerSpec): number {
  const created = daysBefore(1000);
  return Number(
    store.sqlite
      .prepare(
        "INSERT INTO customers (external_id, name, segment, owner_slack_id, since_at, loyalty_member, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        spec.id,
        spec.name ?? `Customer ${spec.id}`,
        spec.segment ?? null,
        spec.owner ?? "U0OWNER1",
        spec.since ?? created,
        spec.loyalty ? 1 : 0,
        created,
        created,
      ).lastInsertRowid,
  );
}

/** A touch written straight to the table: no nudge is resolved by it. */
export function addTouch(store: Store, customerId: number, occurredAt: number, kind = "call"): void {
  store.sqlite
    .prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, source) VALUES (?, ?, ?, ?, 'import')")
    .run(customerId, kind, occurredAt, occurredAt);
}

export function addNps(store: Store, customerId: number, score: number, respondedAt: number): void {
  store.sqlite.prepare("INSERT INTO nps_responses (customer_id, score, responded_at) VALUES (?, ?, ?)").run(customerId, score, respondedAt);
}

export function addPurchases(store: Store, customerId: number, times: readonly number[]): void {
  const insert = store.sqlite.prepare("INSERT INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, 1000, ?)");
  for (const at of times) insert.run(customerId, at, `${customerId}:${at}:${Math.random()}`);
}

export function sweepAt(store: Store, now: number, options: Partial<SweepOptions> = {}): Promise<SweepReport> {
  return runSweep(store, { calendar: UTC, now, ...options });
}

export interface NudgeRow {
  id: number;
  ruleId: string;
  customer: string;
  status: string;
  explanation: string;
  closeReason: string | null;
  cooldownUntil: number | null;
  snoozedUntil: number | null;
}

export function nudges(store: Store): NudgeRow[] {
  return store.sqlite
    .prepare(
      `SELECT n.id, n.rule_id AS ruleId, c.external_id AS customer, n.status, n.explanation, n.close_reason AS closeReason,
         n.cooldown_until AS cooldownUntil, n.snoozed_until AS snoozedUntil
       FROM nudges n JOIN customers c ON c.id = n.customer_id ORDER BY n.id`,
    )
    .all() as NudgeRow[];
}

/** "ruleId customer" of every nudge in a live state, sorted: the readable summary tests compare. */
export function liveKeys(store: Store): string[] {
  return nudges(store)
    .filter((n) => n.status === "open" || n.status === "snoozed")
    .map((n) => `${n.ruleId} ${n.customer}`)
    .sort();
}
