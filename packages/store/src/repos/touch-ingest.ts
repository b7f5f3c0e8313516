import { driverOf, type Store } from "../open-store";
import type { CooldownUntil } from "../time";
import { type ImportedTouch, ImportLedger } from "./bulk-import";
import { writeTouchesAlone } from "./bulk-import.postgres";
import { openBulkTouchWriter } from "./bulk-import-writer";
import { queueEvaluationOfTouchesAfter } from "./evaluation-queue";
import { resolveNudgesByTouchesAfter } from "./touches";

/**
 * The HTTP API's touches: written with the import's dedupe, and in the same
 * transaction their customers queued for evaluation, the live contact nudges they
 * answer resolved and touch.created emitted. On PostgreSQL a single event with
 * nothing to resolve and no listener is one round trip (writeTouchesAlone); anything
 * else goes through the import's writer. Returns per row: written (true) or already
 * present, and how many nudges were resolved.
 */
export async function ingestTouches(
  store: Store,
  rows: readonly ImportedTouch[],
  now: number,
  cooldownUntil: CooldownUntil,
): Promise<{ fresh: boolean[]; resolvedNudges: number }> {
  const driver = driverOf(store);
  if (driver.engine === "postgres") {
    const fresh = await writeTouchesAlone(driver.pool, rows, now);
    if (fresh !== undefined) return { fresh, resolvedNudges: 0 };
  }
  let resolvedNudges = 0;
  const writer = await openBulkTouchWriter(store, { loggedAt: now, ledger: new ImportLedger(), keepSettings: true });
  try {
    const { fresh } = await writer.write(rows, async (trx, after) => {
      await queueEvaluationOfTouchesAfter(trx, after, now);
      resolvedNudges = (await resolveNudgesByTouchesAfter(trx, after, now, cooldownUntil)).length;
    });
    return { fresh, resolvedNudges };
  } finally {
    await writer.close();
  }
}
