import { hostname } from "node:os";
import type { Store } from "@keepwarm/store";

export interface LeaseHolder {
  name: string;
  holder: string;
  host: string;
  pid: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A named lease in the database: one sweep at a time across every process sharing the
 * file. A holder that died on this host is taken over at once (kill, then rerun);
 * one on another host after its TTL.
 */
export function tryAcquireLease(store: Store, name: string, ttlMs: number, now = Date.now()): LeaseHolder | { busy: LeaseHolder } {
  const me: LeaseHolder = { name, holder: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`, host: hostname(), pid: process.pid };
  const acquire = store.sqlite.transaction(() => {
    const row = store.sqlite.prepare("SELECT name, holder, host, pid, expires_at AS expiresAt FROM leases WHERE name = ?").get(name) as
      | (LeaseHolder & { expiresAt: number })
      | undefined;
    const free = row === undefined || row.expiresAt < now || (row.host === me.host && row.pid !== me.pid && !pidAlive(row.pid));
    if (!free) return { busy: row } as { busy: LeaseHolder };
    store.sqlite
      .prepare(
        "INSERT INTO leases (name, holder, host, pid, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at",
      )
      .run(name, me.holder, me.host, me.pid, now + ttlMs);
    return me;
  });
  return acquire.immediate();
}

export function renewLease(store: Store, lease: LeaseHolder, ttlMs: number, now = Date.now()): void {
  store.sqlite.prepare("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?").run(now + ttlMs, lease.name, lease.holder);
}

export function releaseLease(store: Store, lease: LeaseHolder): void {
  store.sqlite.prepare("DELETE FROM leases WHERE name = ? AND holder = ?").run(lease.name, lease.holder);
}
