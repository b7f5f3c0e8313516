import { type Db, writeTransaction } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";
import { enqueueOutbox } from "./outbox";
import { emitNudgeEvents } from "./webhook-events";

export type ClaimResult =
  | { outcome: "claimed"; owner: string }
  /** Someone was faster (or the customer already had an owner): who owns it now. */
  | { outcome: "taken"; owner: string | null; claimedBy: string | null }
  | { outcome: "not_found" };

/**
 * "I'll take it" on a nudge about an unowned customer. One conditional UPDATE decides:
 * `owner_slack_id IS NULL` in its WHERE means that of two clicks at once — in one
 * process or two, on either engine — exactly one sets the owner; the other updates no
 * row. The winner is recorded on the nudge, and every live nudge of the customer that
 * is already in Slack gets its message rewritten (outbox "update") for everyone.
 */
export async function claimUnownedCustomer(db: Db, claim: { nudgeId: number; by: string; now: number }): Promise<ClaimResult> {
  return writeTransaction(db, async (trx) => {
    const nudge = await trx.selectFrom("nudges").select(["customer_id as customerId"]).where("id", "=", claim.nudgeId).executeTakeFirst();
    if (nudge === undefined) return { outcome: "not_found" };
    const won = await trx
      .updateTable("customers")
      .set({ owner_slack_id: claim.by, updated_at: claim.now })
      .where("id", "=", nudge.customerId)
      .where("owner_slack_id", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (won === undefined) {
      const owner = await trx.selectFrom("customers").select("owner_slack_id as owner").where("id", "=", nudge.customerId).executeTakeFirst();
      const claimed = await trx.selectFrom("nudges").select("claimed_by as claimedBy").where("id", "=", claim.nudgeId).executeTakeFirst();
      return { outcome: "taken", owner: owner?.owner ?? null, claimedBy: claimed?.claimedBy ?? null };
    }
    await trx.updateTable("nudges").set({ claimed_by: claim.by, claimed_at: claim.now, updated_at: claim.now }).where("id", "=", claim.nudgeId).execute();
    const shown = await trx
      .selectFrom("nudges")
      .select("id")
      .where("customer_id", "=", nudge.customerId)
      .where("status", "in", LIVE_STATUSES)
      .where("slack_ts", "is not", null)
      .execute();
    await enqueueOutbox(
      trx,
      shown.map((row) => ({ kind: "update" as const, nudgeId: row.id })),
      claim.now,
    );
    await emitNudgeEvents(trx, "nudge.claimed", [claim.nudgeId], claim.now);
    return { outcome: "claimed", owner: claim.by };
  });
}
