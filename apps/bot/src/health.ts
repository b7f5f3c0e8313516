import type { Store } from "@keepwarm/store";

export interface Health {
  ok: boolean;
  db: { ok: boolean; error?: string };
  lastSweep: { id: number; status: string; startedAt: string; finishedAt: string | null; error: string | null } | null;
  outbox: { pending: number; retrying: number; failed: number; oldestPendingAt: string | null } | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What /healthz reports: the database answers, the last sweep, and the delivery backlog. */
export function health(store: Store): Health {
  try {
    store.sqlite.prepare("SELECT 1").get();
    const sweep = store.sqlite
      .prepare("SELECT id, status, started_at AS startedAt, finished_at AS finishedAt, error FROM sweep_runs ORDER BY id DESC LIMIT 1")
      .get() as { id: number; status: string; startedAt: number; finishedAt: number | null; error: string | null } | undefined;
    const outbox = store.sqlite
      .prepare(
        `SELECT coalesce(sum(status = 'pending'), 0) AS pending, coalesce(sum(status = 'pending' AND attempts > 0), 0) AS retrying,
           coalesce(sum(status = 'failed'), 0) AS failed, min(CASE WHEN status = 'pending' THEN created_at END) AS oldest FROM outbox`,
      )
      .get() as { pending: number; retrying: number; failed: number; oldest: number | null };
    return {
      ok: true,
      db: { ok: true },
      lastSweep:
        sweep === undefined
          ? null
          : { id: sweep.id, status: sweep.status, startedAt: iso(sweep.startedAt) as string, finishedAt: iso(sweep.finishedAt), error: sweep.error },
      outbox: { pending: outbox.pending, retrying: outbox.retrying, failed: outbox.failed, oldestPendingAt: iso(outbox.oldest) },
    };
  } catch (error) {
    return { ok: false, db: { ok: false, error: (error as Error).message }, lastSweep: null, outbox: null };
  }
}
