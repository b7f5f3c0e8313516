import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import type { StatsPeriod } from "../src/index";

/** A fixed instant (a Tuesday), so every figure below can be computed by hand. */
export const NOW = Date.parse("2026-06-30T12:00:00Z");
export const UTC = new Calendar("UTC");
export const ago = (days: number): number => NOW - days * DAY_MS;
export const PERIOD: StatsPeriod = { since: ago(90), until: NOW, calendar: UTC };

export async function freshStatsStore(): Promise<{ store: Store; close(): Promise<void> }> {
  const tmp = tempDir("keepwarm-stats-");
  const store = await openStore(await migratedDatabase(tmp));
  return {
    store,
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

export async function customer(
  store: Store,
  spec: { id: string; segment?: string | null; since: number; churned?: number | null; loyalty?: boolean; owner?: string | null },
): Promise<number> {
  const row = await store.db
    .insertInto("customers")
    .values({
      external_id: spec.id,
      name: `Customer ${spec.id}`,
      segment: spec.segment ?? null,
      owner_slack_id: spec.owner ?? null,
      since_at: spec.since,
      loyalty_member: spec.loyalty ? 1 : 0,
      churned_at: spec.churned ?? null,
      attributes: "{}",
      created_at: spec.since,
      updated_at: spec.since,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function touch(store: Store, customerId: number, at: number, by: string | null = null): Promise<number> {
  const row = await store.db
    .insertInto("touchpoints")
    .values({ customer_id: customerId, kind: "call", occurred_at: at, logged_at: at, logged_by: by, source: "import" })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function nps(store: Store, customerId: number, score: number, at: number): Promise<void> {
  await store.db.insertInto("nps_responses").values({ customer_id: customerId, score, responded_at: at }).execute();
}

export async function purchases(store: Store, customerId: number, times: readonly number[]): Promise<void> {
  await store.db
    .insertInto("purchases")
    .values(times.map((at, i) => ({ customer_id: customerId, occurred_at: at, amount_cents: 1000, dedupe_key: `${customerId}:${i}` })))
    .execute();
}

export interface NudgeSpec {
  ruleId: string;
  customerId: number;
  createdAt: number;
  status?: "open" | "snoozed" | "resolved" | "dismissed" | "expired";
  heldOut?: boolean;
  deliveredAt?: number | null;
  snoozedBy?: string | null;
  touchId?: number | null;
  escalatedAt?: number | null;
  snoozeCount?: number;
  /** When it closed; the creation instant by default. */
  closedAt?: number;
  /** The dismissal reason. */
  closeNote?: string | null;
  variant?: "a" | "b" | null;
}

export async function nudge(store: Store, spec: NudgeSpec): Promise<number> {
  const status = spec.status ?? "open";
  const row = await store.db
    .insertInto("nudges")
    .values({
      rule_id: spec.ruleId,
      rule_set_version: 1,
      customer_id: spec.customerId,
      status,
      priority: 2,
      explanation: "why",
      message: "message",
      facts: "{}",
      held_out: spec.heldOut ? 1 : 0,
      resolve_on_touch: 1,
      cooldown_days: 14,
      destination: "owner",
      created_at: spec.createdAt,
      updated_at: spec.createdAt,
      snoozed_by: spec.snoozedBy ?? null,
      snooze_count: spec.snoozeCount ?? (spec.snoozedBy ? 1 : 0),
      closed_at: status === "open" || status === "snoozed" ? null : (spec.closedAt ?? spec.createdAt),
      close_note: spec.closeNote ?? null,
      variant: spec.variant ?? null,
      close_reason: status === "resolved" ? "touch" : status === "dismissed" ? "dismissed" : status === "expired" ? "conditions-cleared" : null,
      resolved_touch_id: spec.touchId ?? null,
      delivered_at: spec.deliveredAt ?? null,
      escalated_at: spec.escalatedAt ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * The hand-computed book of business used by the KPI tests and the report test.
 * Period (NOW − 90 days, NOW]; every expected figure is derived in the tests' comments.
 */
export async function seedBook(store: Store): Promise<Record<"A" | "B" | "C" | "D" | "E" | "F", number>> {
  const A = await customer(store, { id: "A", segment: "enterprise", since: ago(400), loyalty: true, owner: "U0REPA" });
  const B = await customer(store, { id: "B", segment: "enterprise", since: ago(400), churned: ago(10), owner: "U0REPB" });
  const C = await customer(store, { id: "C", segment: "smb", since: ago(300), churned: ago(200) });
  const D = await customer(store, { id: "D", segment: "smb", since: ago(30) });
  const E = await customer(store, { id: "E", segment: "smb", since: ago(200), owner: "U0REPB" });
  const F = await customer(store, { id: "F", segment: null, since: ago(100) });
  await touch(store, A, ago(3), "U0REPA");
  const tA = await touch(store, A, ago(27), "U0REPA");
  await touch(store, B, ago(50), "U0REPB");
  const tE = await touch(store, E, ago(45), "U0REPB");
  await touch(store, E, ago(100), "U0REPB");
  await touch(store, F, ago(10), null);
  await nps(store, A, 3, ago(100));
  await nps(store, A, 10, ago(20));
  await nps(store, B, 2, ago(15));
  await nps(store, E, 9, ago(60));
  await nps(store, E, 4, ago(58));
  await nps(store, E, 6, ago(5));
  await nps(store, F, 9, ago(40));
  await purchases(store, A, [ago(1), ago(10), ago(20), ago(30), ago(40)]);
  await purchases(store, E, [ago(2), ago(12), ago(22), ago(32), ago(89), ago(95)]);
  await purchases(store, F, [ago(3), ago(13), ago(23), ago(33)]);
  await purchases(store, B, [ago(11), ago(12), ago(13), ago(14), ago(15), ago(16), ago(17)]);
  await nudge(store, { ruleId: "r1", customerId: A, createdAt: ago(30), status: "resolved", deliveredAt: ago(30), touchId: tA });
  await nudge(store, { ruleId: "r1", customerId: E, createdAt: ago(50), status: "resolved", deliveredAt: ago(50), touchId: tE, snoozedBy: "U0REPB" });
  await nudge(store, { ruleId: "r1", customerId: F, createdAt: ago(12), status: "dismissed", deliveredAt: ago(12) });
  await nudge(store, { ruleId: "r1", customerId: D, createdAt: ago(5), heldOut: true });
  await nudge(store, { ruleId: "r1", customerId: A, createdAt: ago(200), status: "resolved", deliveredAt: ago(200) });
  await nudge(store, { ruleId: "r2", customerId: D, createdAt: ago(8), deliveredAt: ago(8), escalatedAt: ago(2) });
  await nudge(store, { ruleId: "r2", customerId: E, createdAt: ago(40), status: "expired" });
  return { A, B, C, D, E, F };
}
