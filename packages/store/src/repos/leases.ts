import { type Db, writeTransaction } from "../engine/transaction";

/** Who holds a named lease: `holder` is unique per acquisition; host and pid are for messages only. */
export interface LeaseClaim {
  name: string;
  holder: string;
  host: string;
  pid: number;
}

export interface LeaseRow extends LeaseClaim {
  expiresAt: number;
}

/**
 * Take the lease `claim.name` for `ttlMs` if it is free or its holder let it expire.
 * One atomic upsert decides: the row is written only when absent or expired
 * (`ON CONFLICT … DO UPDATE … WHERE expires_at < now`), so two processes racing for
 * it cannot both win, on either engine. Returns the row that holds the lease now:
 * the claim itself when it won, the live holder when not.
 */
export async function claimLease(db: Db, claim: LeaseClaim, ttlMs: number, now: number): Promise<{ won: boolean; holder: LeaseRow }> {
  return writeTransaction(db, async (trx) => {
    const won = await trx
      .insertInto("leases")
      .values({ name: claim.name, holder: claim.holder, host: claim.host, pid: claim.pid, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column("name")
          .doUpdateSet((eb) => ({
            holder: eb.ref("excluded.holder"),
            host: eb.ref("excluded.host"),
            pid: eb.ref("excluded.pid"),
            expires_at: eb.ref("excluded.expires_at"),
          }))
          .where("leases.expires_at", "<", now),
      )
      .returning("holder")
      .executeTakeFirst();
    if (won?.holder === claim.holder) return { won: true, holder: { ...claim, expiresAt: now + ttlMs } };
    const current = await leaseHolder(trx, claim.name);
    // Only a holder whose row vanished between the two statements leaves nothing here; it held it a moment ago.
    return { won: false, holder: current ?? { ...claim, holder: "unknown", expiresAt: now } };
  });
}

/** The current row of a lease, expired or not; undefined when nobody took it. */
export async function leaseHolder(db: Db, name: string): Promise<LeaseRow | undefined> {
  const row = await db.selectFrom("leases").select(["name", "holder", "host", "pid", "expires_at as expiresAt"]).where("name", "=", name).executeTakeFirst();
  return row;
}

/**
 * The heartbeat: push the lease's expiry to `now + ttlMs` if `holder` still holds it.
 * False when someone else holds it now (it expired and was taken over): the caller
 * lost it and must stop writing. Run it inside a write transaction to fence that
 * transaction's writes: on PostgreSQL the row lock keeps a takeover out until commit.
 */
export async function extendLease(db: Db, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable("leases")
    .set({ expires_at: now + ttlMs })
    .where("name", "=", name)
    .where("holder", "=", holder)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Give the lease up (only if `holder` still holds it). */
export async function dropLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", name).where("holder", "=", holder).execute();
}
