import type { Db } from "../engine/transaction";

export interface DoctorFigures {
  customers: number;
  /** The latest sweep that was not a dry run; undefined when none ran yet. */
  lastSweep: { id: number; status: string; startedAt: number; error: string | null } | undefined;
  outboxPending: number;
  outboxFailed: number;
}

/** What `keepwarm doctor` shows about an install: its size, the last real sweep and the delivery backlog. */
export async function doctorFigures(db: Db): Promise<DoctorFigures> {
  const customers = await db
    .selectFrom("customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const lastSweep = await db
    .selectFrom("sweep_runs")
    .select(["id", "status", "started_at as startedAt", "error"])
    .where("dry_run", "=", 0)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  const outbox = await db
    .selectFrom("outbox")
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere("status", "=", "pending").as("pending"),
      eb.fn.countAll<number>().filterWhere("status", "=", "failed").as("failed"),
    ])
    .where("status", "in", ["pending", "failed"])
    .where("kind", "<>", "webhook")
    .executeTakeFirstOrThrow();
  return { customers: Number(customers.n), lastSweep, outboxPending: Number(outbox.pending), outboxFailed: Number(outbox.failed) };
}
