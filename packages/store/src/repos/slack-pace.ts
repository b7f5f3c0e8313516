import { sql } from "kysely";
import type { Db } from "../engine/transaction";

/**
 * Reserve the next Slack write of a workspace-wide pace (a token bucket as GCRA): one
 * atomic upsert moves the pace's theoretical arrival time one interval past
 * max(itself, now) and returns it, so processes on one database reserve distinct slots.
 * Returns when this write may go: `burst` writes at once, then one interval apart.
 */
export async function reserveSlackWrite(db: Db, pace: { name: string; intervalMs: number; burst: number }, now: number): Promise<number> {
  const { intervalMs, burst } = pace;
  const row = await db
    .insertInto("slack_pace")
    .values({ name: pace.name, tat: now + intervalMs })
    .onConflict((oc) =>
      oc.column("name").doUpdateSet({
        tat: sql<number>`(CASE WHEN slack_pace.tat > ${now} THEN slack_pace.tat ELSE ${now} END) + ${intervalMs}`,
      }),
    )
    .returning("tat")
    .executeTakeFirstOrThrow();
  return Math.max(now, Number(row.tat) - intervalMs * burst);
}
