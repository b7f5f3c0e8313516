import { type Db, writeTransaction } from "../engine/transaction";
import { enqueueOutbox } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

export interface EscalationCandidate {
  nudgeId: number;
  ruleId: string;
  customerId: number;
  deliveredAt: number;
  /** When someone took the (then unowned) customer with "I'll take it", if anyone did. */
  claimedAt: number | null;
}

/** Open, delivered, not held-out nudges never escalated, delivered by `now`: the ones an escalation may be due for. */
export async function escalationCandidates(db: Db, now: number): Promise<EscalationCandidate[]> {
  const rows = await db
    .selectFrom("nudges")
    .select(["id as nudgeId", "rule_id as ruleId", "customer_id as customerId", "delivered_at as deliveredAt", "claimed_at as claimedAt"])
    .where("status", "=", "open")
    .where("held_out", "=", 0)
    .where("escalated_at", "is", null)
    .where("delivered_at", "is not", null)
    .where("delivered_at", "<=", now)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({ ...row, deliveredAt: row.deliveredAt as number }));
}

/**
 * Mark nudges escalated and enqueue one `escalate` item for each, in one transaction.
 * `escalated_at IS NULL` (and still open) in the UPDATE makes a second escalation
 * impossible, whoever else runs this meanwhile. Returns the ids escalated now.
 */
export async function markEscalated(db: Db, nudgeIds: readonly number[], now: number): Promise<number[]> {
  if (nudgeIds.length === 0) return [];
  return writeTransaction(db, async (trx) => {
    const escalated: number[] = [];
    for (let start = 0; start < nudgeIds.length; start += 1000) {
      const rows = await trx
        .updateTable("nudges")
        .set({ escalated_at: now, updated_at: now })
        .where("id", "in", nudgeIds.slice(start, start + 1000))
        .where("escalated_at", "is", null)
        .where("status", "=", "open")
        .returning("id")
        .execute();
      for (const row of rows) escalated.push(Number(row.id));
    }
    escalated.sort((a, b) => a - b);
    await enqueueOutbox(
      trx,
      escalated.map((nudgeId) => ({ kind: "escalate", nudgeId })),
      now,
    );
    await emitNudgeEvents(trx, "nudge.escalated", escalated, now);
    return escalated;
  });
}

export interface EscalationNudgeRow {
  id: number;
  ruleId: string;
  version: number;
  explanation: string;
  createdAt: number;
  deliveredAt: number | null;
  escalatedAt: number | null;
  snoozedBy: string | null;
  snoozedUntil: number | null;
  status: string;
  customerExternalId: string;
  customerName: string;
  ownerSlackId: string | null;
}

/** A nudge with its customer, as an escalation message shows it. */
export async function escalationNudge(db: Db, nudgeId: number): Promise<EscalationNudgeRow | undefined> {
  return db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select([
      "n.id",
      "n.rule_id as ruleId",
      "n.rule_set_version as version",
      "n.explanation",
      "n.created_at as createdAt",
      "n.delivered_at as deliveredAt",
      "n.escalated_at as escalatedAt",
      "n.snoozed_by as snoozedBy",
      "n.snoozed_until as snoozedUntil",
      "n.status",
      "c.external_id as customerExternalId",
      "c.name as customerName",
      "c.owner_slack_id as ownerSlackId",
    ])
    .where("n.id", "=", nudgeId)
    .executeTakeFirst();
}
