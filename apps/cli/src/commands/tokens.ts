import { createApiToken, listTokens, parseScopes, revokeToken } from "@keepwarm/api";
import type { Run } from "../command";
import type { tokensCreateArgs, tokensListArgs, tokensRevokeArgs } from "./index";

const iso = (ms: number | null) => (ms === null ? "—" : new Date(ms).toISOString().slice(0, 16).replace("T", " "));

export const tokensCreateCommand: Run<typeof tokensCreateArgs> = async (values, ctx) => {
  const scopes = parseScopes(values.scopes);
  const { secret, token } = await createApiToken(await ctx.store(), values.name, scopes);
  if (values.json) ctx.out(JSON.stringify({ id: token.id, name: token.name, scopes: token.scopes.split(","), token: secret }));
  else {
    // The secret alone on stdout, so TOKEN=$(keepwarm tokens create …) captures just it.
    ctx.out(secret);
    ctx.err(`token "${token.name}" (id ${token.id}, scopes ${token.scopes}): shown once, keep it in your secret store`);
  }
  return 0;
};

export const tokensListCommand: Run<typeof tokensListArgs> = async (values, ctx) => {
  const tokens = await listTokens(await ctx.store({ readonlyFallback: true }));
  if (values.json) {
    ctx.out(
      JSON.stringify(
        tokens.map((t) => ({
          id: t.id,
          name: t.name,
          scopes: t.scopes.split(","),
          createdAt: t.created_at,
          lastUsedAt: t.last_used_at,
          revokedAt: t.revoked_at,
        })),
      ),
    );
    return 0;
  }
  if (tokens.length === 0) ctx.out("no API tokens; create one with keepwarm tokens create --name NAME --scopes ingest,read,act");
  for (const t of tokens)
    ctx.out(
      `${String(t.id).padStart(4)}  ${t.name.padEnd(20)} ${t.scopes.padEnd(16)} created ${iso(t.created_at)}  last used ${iso(t.last_used_at)}${t.revoked_at === null ? "" : `  REVOKED ${iso(t.revoked_at)}`}`,
    );
  return 0;
};

export const tokensRevokeCommand: Run<typeof tokensRevokeArgs> = async (values, ctx) => {
  const token = await revokeToken(await ctx.store(), values.token);
  ctx.out(`revoked token "${token.name}" (id ${token.id}): requests with it now get 401`);
  return 0;
};
