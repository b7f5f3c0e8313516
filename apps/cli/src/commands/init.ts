import { ensureActiveRuleSet } from "@keepwarm/core";
import type { Run } from "../command";
import type { initArgs } from "./index";

export const initCommand: Run<typeof initArgs> = async (_args, ctx) => {
  const store = await ctx.store();
  const ruleSet = await ensureActiveRuleSet(store);
  ctx.out(`keepwarm database ready at ${store.display}`);
  ctx.out(`active rules: version ${ruleSet.version} (${ruleSet.ruleFile.rules.length} rules: ${ruleSet.ruleFile.rules.map((r) => r.id).join(", ")})`);
  ctx.out("next: pnpm keepwarm import customers customers.csv, then pnpm keepwarm sweep");
  return 0;
};
