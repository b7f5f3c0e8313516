import type { Db } from "../engine/transaction";
import type { ApiIdempotency, ApiToken } from "../tables/api-tokens.table";

export async function insertApiToken(db: Db, token: { name: string; tokenHash: string; scopes: string; now: number }): Promise<ApiToken> {
  return db
    .insertInto("api_tokens")
    .values({ name: token.name, token_hash: token.tokenHash, scopes: token.scopes, created_at: token.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findApiTokenByName(db: Db, name: string): Promise<ApiToken | undefined> {
  return db.selectFrom("api_tokens").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function findApiTokenById(db: Db, id: number): Promise<ApiToken | undefined> {
  return db.selectFrom("api_tokens").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The token with this hash, revoked or not (the caller decides what a revoked one gets). */
export async function findApiTokenByHash(db: Db, tokenHash: string): Promise<ApiToken | undefined> {
  return db.selectFrom("api_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
}

export async function listApiTokens(db: Db): Promise<ApiToken[]> {
  return db.selectFrom("api_tokens").selectAll().orderBy("id").execute();
}

/** Revoke a live token; false when it was revoked already (or does not exist). */
export async function revokeApiToken(db: Db, id: number, now: number): Promise<boolean> {
  const result = await db.updateTable("api_tokens").set({ revoked_at: now }).where("id", "=", id).where("revoked_at", "is", null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Record that a token was used; at most one write a minute per token, so reads stay reads. */
export async function markApiTokenUsed(db: Db, id: number, now: number): Promise<void> {
  await db
    .updateTable("api_tokens")
    .set({ last_used_at: now })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", now - 60_000)]))
    .execute();
}

/** The answer given to an earlier request with this token and Idempotency-Key, if it is recent enough. */
export async function findIdempotentAnswer(db: Db, tokenId: number, key: string, notBefore: number): Promise<ApiIdempotency | undefined> {
  return db
    .selectFrom("api_idempotency")
    .selectAll()
    .where("token_id", "=", tokenId)
    .where("key", "=", key)
    .where("created_at", ">=", notBefore)
    .executeTakeFirst();
}

/**
 * Remember an answer under its token and key (a stale row of the same key is replaced),
 * and forget answers older than `forgetBefore`. A concurrent request with the same key
 * that finished first keeps its row: both made the same (deduplicated) change.
 */
export async function saveIdempotentAnswer(db: Db, answer: Omit<ApiIdempotency, never>, forgetBefore: number): Promise<void> {
  await db.deleteFrom("api_idempotency").where("created_at", "<", forgetBefore).execute();
  await db
    .insertInto("api_idempotency")
    .values(answer)
    .onConflict((oc) => oc.columns(["token_id", "key"]).doNothing())
    .execute();
}
