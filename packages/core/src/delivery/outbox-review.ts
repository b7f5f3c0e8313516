import { listOutbox, OUTBOX_STATUSES, type OutboxListing, type OutboxStatus, retryFailedOutbox, type Store } from "@keepwarm/store";
import { UserError } from "../errors";

export type { OutboxListing } from "@keepwarm/store";

/** `--status` as typed: one of the outbox statuses, or a clear error naming them. */
export function parseOutboxStatus(value: string): OutboxStatus {
  const status = OUTBOX_STATUSES.find((s) => s === value);
  if (status === undefined) throw new UserError(`--status "${value}" is not an outbox status (${OUTBOX_STATUSES.join(", ")})`);
  return status;
}

export async function outboxItems(store: Store, options: { status?: OutboxStatus; limit: number }): Promise<OutboxListing[]> {
  return listOutbox(store.db, options);
}

/** One line per item: what it is, where it stands, and Slack's last answer. */
export function outboxLine(item: OutboxListing): string {
  const when = new Date(item.doneAt ?? item.createdAt).toISOString().slice(0, 16).replace("T", " ");
  const next = item.status === "pending" ? `  next try ${new Date(item.nextAttemptAt).toISOString().slice(0, 16).replace("T", " ")}` : "";
  const error = item.lastError === null ? "" : `  ${item.lastError}`;
  return `#${item.id}  ${item.kind.padEnd(8)} ${item.status.padEnd(7)} nudge #${item.nudgeId} ${item.customer} (${item.ruleId})  ${when}  attempts ${item.attempts}${next}${error}`;
}

/**
 * Re-queue failed deliveries (once the token, the scopes or the channel are fixed).
 * Ids that do not exist or did not fail stop the whole command, with nothing changed.
 */
export async function retryFailedDeliveries(store: Store, target: { ids: number[] } | { allFailed: true }, now = Date.now()): Promise<number[]> {
  const outcome = await retryFailedOutbox(store.db, target, now);
  if (outcome.notFound.length > 0) throw new UserError(`no outbox item #${outcome.notFound.join(", #")} (keepwarm outbox list shows them)`);
  const [first] = outcome.notFailed;
  if (first !== undefined) throw new UserError(`outbox item #${first.id} is ${first.status}, not failed: only failed items are retried`);
  return outcome.retried;
}
