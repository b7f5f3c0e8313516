import { getActiveRuleSet } from "@keepwarm/core";
import { doctorFigures } from "@keepwarm/store";
import type { Context } from "../context";

interface Check {
  ok: boolean;
  label: string;
  detail: string;
}

/** Ask Slack who the bot token belongs to (auth.test, bounded): a refused or unreachable answer fails. */
async function slackTokenCheck(apiUrl: string, token: string): Promise<Check> {
  // Loaded only here: the rest of doctor needs no Slack code.
  const { checkBotToken } = await import("@keepwarm/bot");
  const result = await checkBotToken(apiUrl, token);
  if (result.kind === "ok") {
    const { teamId, botUserId } = result.identity;
    return { ok: true, label: "slack token", detail: `auth.test ok: workspace ${teamId}${botUserId ? `, bot user ${botUserId}` : ""}` };
  }
  if (result.kind === "refused") return { ok: false, label: "slack token", detail: `SLACK_BOT_TOKEN refused by Slack (${result.error})` };
  return { ok: false, label: "slack token", detail: `Slack did not answer auth.test at ${apiUrl} (${result.error})` };
}

/** What an operator asks first when something looks off: configuration, database, rules, last sweep, delivery backlog. */
export async function doctorCommand(_args: string[], ctx: Context): Promise<number> {
  const checks: Check[] = [];
  const env = ctx.env;
  checks.push({ ok: true, label: "configuration", detail: `schedule "${env.KEEPWARM_SCHEDULE}" in ${env.KEEPWARM_TZ}` });
  const slack =
    env.SLACK_BOT_TOKEN === undefined
      ? { ok: true, detail: "no SLACK_BOT_TOKEN: nudges are printed to the console" }
      : env.SLACK_APP_TOKEN !== undefined
        ? { ok: true, detail: "Socket Mode (SLACK_APP_TOKEN set)" }
        : env.SLACK_SIGNING_SECRET === undefined
          ? { ok: false, detail: "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)" }
          : { ok: true, detail: `HTTP mode on port ${env.PORT}, Web API ${env.SLACK_API_URL}` };
  checks.push({ label: "slack", ...slack });
  if (env.SLACK_BOT_TOKEN !== undefined) checks.push(await slackTokenCheck(env.SLACK_API_URL, env.SLACK_BOT_TOKEN));
  const store = await ctx.store();
  const figures = await doctorFigures(store.db);
  checks.push({ ok: true, label: "database", detail: `${store.display} (${figures.customers} customers)` });
  try {
    const ruleSet = await getActiveRuleSet(store);
    checks.push(
      ruleSet === undefined
        ? { ok: true, label: "rules", detail: "none applied yet: the first sweep activates the default rules (or run keepwarm init)" }
        : { ok: true, label: "rules", detail: `version ${ruleSet.version}, ${ruleSet.ruleFile.rules.filter((r) => r.enabled).length} enabled rules` },
    );
  } catch (error) {
    checks.push({ ok: false, label: "rules", detail: `the active version no longer validates: ${(error as Error).message}` });
  }
  const last = figures.lastSweep;
  checks.push(
    last === undefined
      ? { ok: true, label: "last sweep", detail: "never ran" }
      : {
          ok: last.status !== "error",
          label: "last sweep",
          detail: `#${last.id} ${last.status} at ${new Date(last.startedAt).toISOString()}${last.error ? `: ${last.error}` : ""}`,
        },
  );
  checks.push({ ok: figures.outboxFailed === 0, label: "delivery", detail: `${figures.outboxPending} pending, ${figures.outboxFailed} failed` });
  for (const check of checks) ctx.out(`${check.ok ? "ok  " : "FAIL"}  ${check.label.padEnd(12)} ${check.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}
