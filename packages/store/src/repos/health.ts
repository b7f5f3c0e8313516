import type { Db } from "../engine/transaction";

export interface HealthFacts {
  lastSweep: { id: number; status: string; startedAt: number; finishedAt: number | null; error: string | null } | undefined;
  outbox: { pending: number; retrying: number; failed: number; oldestPendingAt: number | null };
}

/** What /healthz reports besides "the database answers": the last sweep and the delivery backlog. */
export async function healthFacts(db: Db): Promise<HealthFacts> {
  const lastSweep = await db
    .selectFrom("sweep_runs")
    .select(["id", "status", "started_at as startedAt", "finished_at as finishedAt", "error"])
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  const outbox = await db
    .selectFrom("outbox")
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere("status", "=", "pending").as("pending"),
      eb.fn.countAll<number>().filterWhere("status", "=", "pending").filterWhere("attempts", ">", 0).as("retrying"),
      eb.fn.countAll<number>().filterWhere("status", "=", "failed").as("failed"),
      eb.fn.min("created_at").filterWhere("status", "=", "pending").as("oldestPendingAt"),
    ])
    .where("status", "in", ["pending", "failed"])
    // Slack's backlog: webhook items are reported apart (webhookBacklog).
    .where("kind", "<>", "webhook")
    .executeTakeFirstOrThrow();
  return {
    lastSweep,
    outbox: {
      pending: Number(outbox.pending),
      retrying: Number(outbox.retrying),
      failed: Number(outbox.failed),
      oldestPendingAt: outbox.oldestPendingAt === null ? null : Number(outbox.oldestPendingAt),
    },
  };
}
