import { type Db, writeTransaction } from "../engine/transaction";
import type { Webhook, WebhookEventType } from "../tables/webhooks.table";

export async function insertWebhook(db: Db, webhook: { url: string; events: readonly WebhookEventType[]; secret: string; now: number }): Promise<Webhook> {
  return db
    .insertInto("webhooks")
    .values({ url: webhook.url, events: webhook.events.join(","), secret: webhook.secret, created_at: webhook.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every webhook, removed ones included (they keep their log), oldest first. */
export async function listWebhooks(db: Db): Promise<Webhook[]> {
  return db.selectFrom("webhooks").selectAll().orderBy("id").execute();
}

export async function findWebhook(db: Db, id: number): Promise<Webhook | undefined> {
  return db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Remove a webhook: no event is queued for it from now on, and its deliveries still
 * waiting are skipped (kept in its log). False when it was removed already.
 */
export async function removeWebhook(db: Db, id: number, now: number): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const result = await trx.updateTable("webhooks").set({ removed_at: now }).where("id", "=", id).where("removed_at", "is", null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await trx
      .updateTable("outbox")
      .set({ status: "skipped", done_at: now, last_error: "webhook removed", claimed_by: null, claimed_until: null })
      .where("webhook_id", "=", id)
      .where("status", "in", ["pending", "failed"])
      .execute();
    return true;
  });
}

/**
 * The live webhooks and what each subscribes to, read in the transaction of the state
 * change that may emit an event: a tiny table, one indexless read, and no event is
 * written when nobody listens.
 */
export async function webhookSubscriptions(trx: Db): Promise<Array<{ id: number; events: Set<string> }>> {
  const rows = await trx.selectFrom("webhooks").select(["id", "events"]).where("removed_at", "is", null).execute();
  return rows.map((row) => ({ id: Number(row.id), events: new Set(row.events.split(",")) }));
}
