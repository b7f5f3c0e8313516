import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore, type Store } from "@keepwarm/store";
import { tempDir } from "@keepwarm/testkit";
import type { StatsPeriod } from "../src/index";

/** A fixed instant (a Tuesday), so every figure below can be computed by hand. */
export const NOW = Date.parse("2026-06-30T12:00:00Z");
export const UTC = new Calendar("UTC");
export const ago = (days: number): number => NOW - days * DAY_MS;
export const PERIOD: StatsPeriod = { since: ago(90), until: NOW, calendar: UTC };

export async function freshStatsStore(): Promise<{ store: Store; close(): Promise<void> }> {
  const tmp = tempDir("keepwarm-stats-");
  const store = await openStore(tmp.file("keepwarm.db"));
  return {
    store,
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

export function customer(
  store: Store,
  spec: { id: string; segment?: string | null; since: number; churned?: number | null; loyalty?: boolean; owner?: string | null },
): number {
  return Number(
    store.sqlite
      .prepare(
        "INSERT INTO customers (external_id, name, segment, owner_slack_id, since_at, loyalty_member, churned_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        spec.id,
        `Customer ${spec.id}`,
        spec.segment ?? null,
        spec.owner ?? null,
        spec.since,
        spec.loyalty ? 1 : 0,
        spec.churned ?? null,
        spec.since,
        spec.since,
      ).lastInsertRowid,
  );
}

export function touch(store: Store, customerId: number, at: number, by: string | null = null): number {
  return Number(
    store.sqlite
      .prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, source) VALUES (?, 'call', ?, ?, ?, 'import')")
      .run(customerId, at, at, by).lastInsertRowid,
  );
}

export function nps(store: Store, customerId: number, score: number, at: number): void {
  store.sqlite.prepare("INSERT INTO nps_responses (customer_id, score, responded_at) VALUES (?, ?, ?)").run(customerId, score, at);
}

export function purchases(store: Store, customerId: number, times: readonly number[]): void {
  const insert = store.sqlite.prepare("INSERT INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, 1000, ?)");
  times.forEach((at, i) => {
    insert.run(customerId, at, `${customerId}:${i}`);
  });
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
}

export function nudge(store: Store, spec: NudgeSpec): number {
  const status = spec.status ?? "open";
  return Number(
    store.sqlite
      .prepare(
        `INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, facts, held_out, cooldown_days, destination,
           created_at, updated_at, snoozed_by, closed_at, close_reason, resolved_touch_id, delivered_at, escalated_at)
         VALUES (?, 1, ?, ?, 2, 'why', 'message', '{}', ?, 14, 'owner', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        spec.ruleId,
        spec.customerId,
        status,
        spec.heldOut ? 1 : 0,
        spec.createdAt,
        spec.createdAt,
        spec.snoozedBy ?? null,
        status === "open" || status === "snoozed" ? null : spec.createdAt,
        status === "resolved" ? "touch" : status === "dismissed" ? "dismissed" : status === "expired" ? "conditions-cleared" : null,
        spec.touchId ?? null,
        spec.deliveredAt ?? null,
        spec.escalatedAt ?? null,
      ).lastInsertRowid,
  );
}

/**
 * The hand-computed book of business used by the KPI tests and the report test.
 * Period (NOW − 90 days, NOW]; every expected figure is derived in the tests' comments.
 */
export function seedBook(store: Store): Record<"A" | "B" | "C" | "D" | "E" | "F", number> {
  const A = customer(store, { id: "A", segment: "enterprise", since: ago(400), loyalty: true, owner: "U0REPA" });
  const B = customer(store, { id: "B", segment: "enterprise", since: ago(400), churned: ago(10), owner: "U0REPB" });
  const C = customer(store, { id: "C", segment: "smb", since: ago(300), churned: ago(200) });
  const D = customer(store, { id: "D", segment: "smb", since: ago(30) });
  const E = customer(store, { id: "E", segment: "smb", since: ago(200), owner: "U0REPB" });
  const F = customer(store, { id: "F", segment: null, since: ago(100) });
  touch(store, A, ago(3), "U0REPA");
  const tA = touch(store, A, ago(27), "U0REPA");
  touch(store, B, ago(50), "U0REPB");
  const tE = touch(store, E, ago(45), "U0REPB");
  touch(store, E, ago(100), "U0REPB");
  touch(store, F, ago(10), null);
  nps(store, A, 3, ago(100));
  nps(store, A, 10, ago(20));
  nps(store, B, 2, ago(15));
  nps(store, E, 9, ago(60));
  nps(store, E, 4, ago(58));
  nps(store, E, 6, ago(5));
  nps(store, F, 9, ago(40));
  purchases(store, A, [ago(1), ago(10), ago(20), ago(30), ago(40)]);
  purchases(store, E, [ago(2), ago(12), ago(22), ago(32), ago(89), ago(95)]);
  purchases(store, F, [ago(3), ago(13), ago(23), ago(33)]);
  purchases(store, B, [ago(11), ago(12), ago(13), ago(14), ago(15), ago(16), ago(17)]);
  nudge(store, { ruleId: "r1", customerId: A, createdAt: ago(30), status: "resolved", deliveredAt: ago(30), touchId: tA });
  nudge(store, { ruleId: "r1", customerId: E, createdAt: ago(50), status: "resolved", deliveredAt: ago(50), touchId: tE, snoozedBy: "U0REPB" });
  nudge(store, { ruleId: "r1", customerId: F, createdAt: ago(12), status: "dismissed", deliveredAt: ago(12) });
  nudge(store, { ruleId: "r1", customerId: D, createdAt: ago(5), heldOut: true });
  nudge(store, { ruleId: "r1", customerId: A, createdAt: ago(200), status: "resolved", deliveredAt: ago(200) });
  nudge(store, { ruleId: "r2", customerId: D, createdAt: ago(8), deliveredAt: ago(8), escalatedAt: ago(2) });
  nudge(store, { ruleId: "r2", customerId: E, createdAt: ago(40), status: "expired" });
  return { A, B, C, D, E, F };
}
