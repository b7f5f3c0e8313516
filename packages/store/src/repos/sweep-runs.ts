import type { Db } from "../engine/transaction";

export interface SweepRunStart {
  startedAt: number;
  dryRun: boolean;
  asOf: number;
  ruleSetVersion: number;
  host: string;
  pid: number;
}

export interface SweepRunCounts {
  evaluated: number;
  matched: number;
  created: number;
  reopened: number;
  expired: number;
  heldOut: number;
}

/** Record a sweep as running; returns its id (the run number users see). */
export async function startSweepRun(db: Db, run: SweepRunStart): Promise<number> {
  const row = await db
    .insertInto("sweep_runs")
    .values({
      started_at: run.startedAt,
      status: "running",
      dry_run: run.dryRun ? 1 : 0,
      as_of: run.asOf,
      rule_set_version: run.ruleSetVersion,
      evaluated: 0,
      matched: 0,
      created: 0,
      reopened: 0,
      expired: 0,
      held_out: 0,
      host: run.host,
      pid: run.pid,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function finishSweepRun(db: Db, id: number, counts: SweepRunCounts, now: number): Promise<void> {
  await db
    .updateTable("sweep_runs")
    .set({
      status: "ok",
      finished_at: now,
      evaluated: counts.evaluated,
      matched: counts.matched,
      created: counts.created,
      reopened: counts.reopened,
      expired: counts.expired,
      held_out: counts.heldOut,
    })
    .where("id", "=", id)
    .execute();
}

/** Record a failed run, unless the sweep that took over already marked it abandoned. */
export async function failSweepRun(db: Db, id: number, error: string, now: number): Promise<void> {
  await db.updateTable("sweep_runs").set({ status: "error", finished_at: now, error }).where("id", "=", id).where("status", "=", "running").execute();
}

/**
 * Runs still marked running whose sweep is gone: call it holding the sweep lease,
 * when no other sweep can be running, so every such run belongs to a dead holder.
 * Returns the ids marked abandoned.
 */
export async function abandonRunningSweeps(db: Db, now: number): Promise<number[]> {
  const rows = await db.updateTable("sweep_runs").set({ status: "abandoned", finished_at: now }).where("status", "=", "running").returning("id").execute();
  return rows.map((row) => Number(row.id));
}
