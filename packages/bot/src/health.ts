import { healthFacts, type Store, storageStatus, webhookBacklog } from "@keepwarm/store";

export interface Health {
  ok: boolean;
  db: { ok: boolean; error?: string };
  /** Can the database take writes (a touch, a sweep), and is there disk for them? */
  storage: { ok: boolean; readOnly: string | null; freeBytes: number | null; diskFull: boolean } | null;
  lastSweep: { id: number; status: string; startedAt: string; finishedAt: string | null; error: string | null } | null;
  outbox: { pending: number; retrying: number; failed: number; oldestPendingAt: string | null } | null;
  /** Webhook deliveries waiting (first tries and retries) and given up (`keepwarm webhooks log --failed`). */
  webhooks: { pending: number; failed: number } | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What /healthz reports: the database answers and can take writes, the last sweep, and the delivery backlog. */
export async function health(store: Store): Promise<Health> {
  try {
    const { lastSweep: sweep, outbox } = await healthFacts(store.db);
    const storage = await storageStatus(store);
    const webhooks = await webhookBacklog(store.db);
    const storageOk = storage.readOnly === undefined && !storage.diskFull;
    return {
      ok: storageOk,
      db: { ok: true },
      storage: { ok: storageOk, readOnly: storage.readOnly ?? null, freeBytes: storage.freeBytes ?? null, diskFull: storage.diskFull },
      lastSweep:
        sweep === undefined
          ? null
          : { id: sweep.id, status: sweep.status, startedAt: iso(sweep.startedAt) as string, finishedAt: iso(sweep.finishedAt), error: sweep.error },
      outbox: { pending: outbox.pending, retrying: outbox.retrying, failed: outbox.failed, oldestPendingAt: iso(outbox.oldestPendingAt) },
      webhooks,
    };
  } catch (error) {
    return { ok: false, db: { ok: false, error: (error as Error).message }, storage: null, lastSweep: null, outbox: null, webhooks: null };
  }
}
