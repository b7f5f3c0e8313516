import { createApiToken, listTokens, parseScopes, revokeToken } from "@keepwarm/api";
import { UserError } from "@keepwarm/core";
import { parse, requirePositional } from "../args";
import type { Context } from "../context";

const USAGE = "keepwarm tokens create --name NAME --scopes ingest,read,act | list [--json] | revoke NAME|ID";
const iso = (ms: number | null) => (ms === null ? "—" : new Date(ms).toISOString().slice(0, 16).replace("T", " "));

export async function tokensCommand(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: "string" }, scopes: { type: "string" }, json: { type: "boolean" } }, USAGE);
  const [sub, ...rest] = positionals;
  if (rest.length > (sub === "revoke" ? 1 : 0)) throw new UserError(`unexpected argument "${rest[rest.length - 1]}"\nusage: ${USAGE}`);
  const store = await ctx.store();
  switch (sub) {
    case "create": {
      if (values.name === undefined) throw new UserError(`missing --name\nusage: ${USAGE}`);
      const { secret, token } = await createApiToken(store, values.name, parseScopes(values.scopes ?? ""));
      if (values.json) ctx.out(JSON.stringify({ id: token.id, name: token.name, scopes: token.scopes.split(","), token: secret }));
      else {
        ctx.out(secret);
        ctx.err(`token "${token.name}" (id ${token.id}, scopes ${token.scopes}): shown once, keep it in your secret store`);
      }
      return 0;
    }
    case "list": {
      const tokens = await listTokens(store);
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
    }
    case "revoke": {
      const token = await revokeToken(store, requirePositional(positionals, 1, "token name or id", USAGE));
      ctx.out(`revoked token "${token.name}" (id ${token.id}): requests with it now get 401`);
      return 0;
    }
    default:
      throw new UserError(`${sub === undefined ? "missing subcommand" : `unknown subcommand "${sub}"`}\nusage: ${USAGE}`);
  }
}
