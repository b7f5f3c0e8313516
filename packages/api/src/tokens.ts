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

/** Revoke by name or id; requests with it get 401 from then on. */
export async function revokeToken(store: Store, nameOrId: string, now = Date.now()): Promise<ApiToken> {
  const token =
    (await findApiTokenByName(store.db, nameOrId)) ?? (/^\d{1,15}$/.test(nameOrId) ? await findApiTokenById(store.db, Number(nameOrId)) : undefined);
  if (token === undefined) throw new UserError(`no token named "${nameOrId.slice(0, 80)}"; \`keepwarm tokens list\` shows them`);
  if (!(await revokeApiToken(store.db, token.id, now))) throw new UserError(`token "${token.name}" was revoked already`);
  return { ...token, revoked_at: now };
}

/** The live token an `Authorization: Bearer …` header carries, or undefined (missing, unknown or revoked). */
export async function authenticate(store: Store, authorization: string | undefined, now: number): Promise<ApiToken | undefined> {
  const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(authorization ?? "");
  if (match === null || !(match[1] as string).startsWith(PREFIX)) return undefined;
  const token = await findApiTokenByHash(store.db, hashToken(match[1] as string));
  if (token === undefined || token.revoked_at !== null) return undefined;
  // At most one write a minute per token (the store's guard too): most requests then only read.
  if (token.last_used_at === null || token.last_used_at < now - 60_000) await markApiTokenUsed(store.db, token.id, now);
  return token;
}
