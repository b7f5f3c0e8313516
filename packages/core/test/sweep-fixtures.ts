import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runSweep, type SweepOptions, type SweepReport } from "../src/index";

/** A fixed instant, so "days ago" never depends on when the suite runs. */
export const NOW = Date.parse("2026-06-15T12:00:00Z");
export const UTC = new Calendar("UTC");
export const daysBefore = (days: number, from = NOW): number => from - days * DAY_MS;
export const daysAfter = (days: number, from = NOW): number => from + days * DAY_MS;

export interface Fixture {
  store: Store;
  /** The KEEPWARM_DB value of the store: a file path, or a PostgreSQL URL. */
  path: string;
  close(): Promise<void>;
}

/** A fresh, migrated database (SQLite file or PostgreSQL database, see migratedDatabase) with its own temp folder. */
export async function freshStore(): Promise<Fixture> {
  const tmp = tempDir("keepwarm-core-");
  const path = await migratedDatabase(tmp);
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
export async function addCustomer(store: Store, spec: CustomerSpec): Promise<number> {
  const created = daysBefore(1000);
  const row = await store.db
    .insertInto("customers")
    .values({
      external_id: spec.id,
      name: spec.name ?? `Customer ${spec.id}`,
      segment: spec.segment ?? null,
      owner_slack_id: spec.owner ?? "U0OWNER1",
      since_at: spec.since ?? created,
      loyalty_member: spec.loyalty ? 1 : 0,
      attributes: "{}",
      created_at: created,
      updated_at: created,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** A touch written straight to the table: no nudge is resolved by it. */
export async function addTouch(store: Store, customerId: number, occurredAt: number, kind = "call"): Promise<void> {
  await store.db
    .insertInto("touchpoints")
    .values({ customer_id: customerId, kind, occurred_at: occurredAt, logged_at: occurredAt, source: "import" })
    .execute();
}

export async function addNps(store: Store, customerId: number, score: number, respondedAt: number): Promise<void> {
  await store.db.insertInto("nps_responses").values({ customer_id: customerId, score, responded_at: respondedAt }).execute();
}

export async function addPurchases(store: Store, customerId: number, times: readonly number[]): Promise<void> {
  if (times.length === 0) return;
  await store.db
    .insertInto("purchases")
    .values(times.map((at) => ({ customer_id: customerId, occurred_at: at, amount_cents: 1000, dedupe_key: `${customerId}:${at}:${Math.random()}` })))
    .execute();
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

export async function nudges(store: Store): Promise<NudgeRow[]> {
  return store.db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select([
      "n.id",
      "n.rule_id as ruleId",
      "c.external_id as customer",
      "n.status",
      "n.explanation",
      "n.close_reason as closeReason",
      "n.cooldown_until as cooldownUntil",
      "n.snoozed_until as snoozedUntil",
    ])
    .orderBy("n.id")
    .execute();
}

/** "ruleId customer" of every nudge in a live state, sorted: the readable summary tests compare. */
export async function liveKeys(store: Store): Promise<string[]> {
  return (await nudges(store))
    .filter((n) => n.status === "open" || n.status === "snoozed")
    .map((n) => `${n.ruleId} ${n.customer}`)
    .sort();
}

/** Row count of a table. */
export async function countRows(store: Store, table: "customers" | "touchpoints" | "nudges" | "outbox" | "sweep_runs" | "leases"): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
