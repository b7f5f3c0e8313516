import { createHash, randomBytes } from "node:crypto";
import { UserError } from "@keepwarm/core";
import {
  type ApiToken,
  findApiTokenByHash,
  findApiTokenById,
  findApiTokenByName,
  insertApiToken,
  listApiTokens,
  markApiTokenUsed,
  revokeApiToken,
  type Store,
} from "@keepwarm/store";

export const SCOPES = ["ingest", "read", "act"] as const;
export type Scope = (typeof SCOPES)[number];

const PREFIX = "kw_";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A token is 32 random bytes (256 bits): SHA-256 of it is all the database keeps. A slow
 * password hash (bcrypt, scrypt) protects secrets people choose, which are guessable;
 * nobody can guess 256 random bits, so a fast hash loses nothing, and every request can
 * be checked with one indexed lookup instead of a deliberate 100 ms of CPU.
 */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** "ingest,read" → scopes, or one line naming the bad one. */
export function parseScopes(text: string): Scope[] {
  const scopes = [...new Set(text.split(",").map((s) => s.trim().toLowerCase()))].filter(Boolean);
  if (scopes.length === 0) throw new UserError(`--scopes needs at least one of ${SCOPES.join(", ")}`);
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new UserError(`unknown scope "${scope}"; scopes are ${SCOPES.join(", ")}`);
  }
  return SCOPES.filter((s) => scopes.includes(s));
}

export const scopesOf = (token: ApiToken): Scope[] => token.scopes.split(",").filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));

/** Create a token: the returned secret is shown once, and only its hash is stored. */
export async function createApiToken(store: Store, name: string, scopes: readonly Scope[], now = Date.now()): Promise<{ secret: string; token: ApiToken }> {
  if (!NAME.test(name)) throw new UserError(`token name "${name.slice(0, 80)}" must be 1–64 letters, digits, ".", "_" or "-"`);
  if ((await findApiTokenByName(store.db, name)) !== undefined) throw new UserError(`a token named "${name}" exists already (names stay taken after a revoke)`);
  const secret = `${PREFIX}${randomBytes(32).toString("base64url")}`;
  const token = await insertApiToken(store.db, { name, tokenHash: hashToken(secret), scopes: scopes.join(","), now });
  return { secret, token };
}

export async function listTokens(store: Store): Promise<ApiToken[]> {
  return listApiTokens(store.db);
}

/**
 * How long a server trusts a token it verified before reading it again: a token
 * revoked by another process (`keepwarm tokens revoke`) is refused within this. One
 * lookup a second instead of one per request; a revoke in this process clears the
 * cache at once (revokeToken).
 */
export const TOKEN_RECHECK_MS = 1_000;

/** Bumped by every revoke in this process: verified tokens cached before it are read again. */
let revocations = 0;

/** Revoke by name or id; requests with it get 401 from then on (other processes' servers: within TOKEN_RECHECK_MS). */
export async function revokeToken(store: Store, nameOrId: string, now = Date.now()): Promise<ApiToken> {
  const token =
    (await findApiTokenByName(store.db, nameOrId)) ?? (/^\d{1,15}$/.test(nameOrId) ? await findApiTokenById(store.db, Number(nameOrId)) : undefined);
  if (token === undefined) throw new UserError(`no token named "${nameOrId.slice(0, 80)}"; \`keepwarm tokens list\` shows them`);
  if (!(await revokeApiToken(store.db, token.id, now))) throw new UserError(`token "${token.name}" was revoked already`);
  revocations++;
  return { ...token, revoked_at: now };
}

/**
 * The live tokens a server verified lately, by hash (no secret is kept in memory).
 * Ages are measured on the monotonic clock, not the request's `now`, which tests move.
 */
export class TokenCache {
  readonly #verified = new Map<string, { token: ApiToken; at: number; epoch: number }>();

  /** The live token an `Authorization: Bearer …` header carries, or undefined (missing, unknown or revoked). */
  async authenticate(store: Store, authorization: string | undefined, now: number): Promise<ApiToken | undefined> {
    const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(authorization ?? "");
    if (match === null || !(match[1] as string).startsWith(PREFIX)) return undefined;
    const hash = hashToken(match[1] as string);
    const seen = this.#verified.get(hash);
    const at = performance.now();
    let token: ApiToken | undefined;
    if (seen !== undefined && at - seen.at < TOKEN_RECHECK_MS && seen.epoch === revocations) token = seen.token;
    else {
      token = await findApiTokenByHash(store.db, hash);
      if (token === undefined || token.revoked_at !== null) {
        this.#verified.delete(hash);
        return undefined;
      }
      // Only live tokens are kept, so random secrets cannot grow the map; a bound all the same.
      if (this.#verified.size >= 1_000) this.#verified.clear();
      this.#verified.set(hash, { token, at, epoch: revocations });
    }
    // At most one write a minute per token (the store's guard too): most requests then only read.
    if (token.last_used_at === null || token.last_used_at < now - 60_000) {
      await markApiTokenUsed(store.db, token.id, now);
      token.last_used_at = now;
    }
    return token;
  }
}
