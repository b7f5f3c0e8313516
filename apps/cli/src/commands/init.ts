import { ensureActiveRuleSet } from "@keepwarm/core";
import type { Context } from "../context";

export async function initCommand(_args: string[], ctx: Context): Promise<number> {
  const store = await ctx.store();
  const ruleSet = await ensureActiveRuleSet(store);
  ctx.out(`keepwarm database ready at ${store.display}`);
  ctx.out(`active rules: version ${ruleSet.version} (${ruleSet.ruleFile.rules.length} rules: ${ruleSet.ruleFile.rules.map((r) => r.id).join(", ")})`);
  ctx.out("next: pnpm keepwarm import customers customers.csv, then pnpm keepwarm sweep");
  return 0;
}
