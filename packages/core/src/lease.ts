import { hostname } from "node:os";
import { claimLease, dropLease, extendLease, type Store } from "@keepwarm/store";

export interface LeaseHolder {
  name: string;
  holder: string;
  host: string;
  pid: number;
}

/** The lease was taken over by another process (ours expired): stop before writing more. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(readonly lease: LeaseHolder) {
    super(`lost the "${lease.name}" lease to another process (it expired: no heartbeat within its time to live); stopped`);
  }
}

/**
 * A named lease in the database: one holder at a time across every process sharing
 * it. A lease is alive only while its holder renews it (keepLeaseAlive); a holder that
 * died — killed, crashed, or a container restarted with the same pid — stops renewing
 * and is taken over once `ttlMs` has passed. Never judged by pid.
 */
export async function tryAcquireLease(store: Store, name: string, ttlMs: number, now = Date.now()): Promise<LeaseHolder | { busy: LeaseHolder }> {
  const me: LeaseHolder = { name, holder: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`, host: hostname(), pid: process.pid };
  const { won, holder } = await claimLease(store.db, me, ttlMs, now);
  return won ? me : { busy: { name: holder.name, holder: holder.holder, host: holder.host, pid: holder.pid } };
}

/** Push the lease's expiry to `now + ttlMs`; false when another process holds it now. */
export function renewLease(store: Store, lease: LeaseHolder, ttlMs: number, now = Date.now()): Promise<boolean> {
  return extendLease(store.db, lease.name, lease.holder, ttlMs, now);
}

export async function releaseLease(store: Store, lease: LeaseHolder): Promise<void> {
  await dropLease(store.db, lease.name, lease.holder);
}

export interface Heartbeat {
  /** Throws LeaseLostError once a renewal found the lease taken over. */
  assertHeld(): void;
  readonly lost: boolean;
  stop(): void;
}

/**
 * Renew a held lease every `everyMs` (well inside `ttlMs`) until stopped. The timer is
 * unref'd: it never keeps a process alive. A renewal that fails (the database is
 * briefly unreachable) is retried on the next beat; one that finds the lease taken
 * over marks it lost for good.
 */
export function keepLeaseAlive(store: Store, lease: LeaseHolder, options: { ttlMs: number; everyMs: number }): Heartbeat {
  let lost = false;
  let beating = false;
  const timer = setInterval(() => {
    if (beating || lost) return;
    beating = true;
    renewLease(store, lease, options.ttlMs).then(
      (held) => {
        beating = false;
        if (!held) lost = true;
      },
      () => {
        beating = false;
      },
    );
  }, options.everyMs);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    assertHeld() {
      if (lost) throw new LeaseLostError(lease);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
