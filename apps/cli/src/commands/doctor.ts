import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { getActiveRuleSet } from "@keepwarm/core";
import { doctorFigures, engineOf, LOW_DISK_BYTES, openStore, type Store, schemaStatus, storageStatus } from "@keepwarm/store";
import type { Run } from "../command";
import type { doctorArgs } from "./index";

interface Check {
  ok: boolean;
  label: string;
  detail: string;
}

const mb = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))} MB`;

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

/** Everything doctor says about the database, read-only: a missing file stays missing, nothing is migrated. */
async function databaseChecks(location: string): Promise<Check[]> {
  if (engineOf(location) === "sqlite" && location !== ":memory:" && !existsSync(resolve(location))) {
    return [{ ok: false, label: "database", detail: `no database at ${resolve(location)} (is KEEPWARM_DB mistyped? keepwarm init creates one)` }];
  }
  let store: Store;
  try {
    store = await openStore(location, { readonly: true });
  } catch (error) {
    return [{ ok: false, label: "database", detail: (error as Error).message }];
  }
  const checks: Check[] = [];
  try {
    const schema = await schemaStatus(store.db);
    if (schema.unknown.length > 0) {
      return [
        { ok: false, label: "database", detail: `${store.display} has a newer schema than this keepwarm (migration ${schema.unknown[0]}): upgrade keepwarm` },
      ];
    }
    if (schema.pending.length > 0) {
      return [
        {
          ok: false,
          label: "database",
          detail: `${store.display} needs ${schema.pending.length} migration${schema.pending.length === 1 ? "" : "s"}: run keepwarm init (or start keepwarm, which migrates on start)`,
        },
      ];
    }
    const storage = await storageStatus(store);
    const figures = await doctorFigures(store.db);
    checks.push({ ok: true, label: "database", detail: `${store.display} (${figures.customers} customers)` });
    checks.push(
      storage.readOnly !== undefined
        ? { ok: false, label: "storage", detail: `read-only: ${storage.readOnly}; sweeps and touches will fail (stats and export still work)` }
        : storage.diskFull
          ? { ok: false, label: "storage", detail: `disk almost full: ${mb(storage.freeBytes ?? 0)} free (under ${mb(LOW_DISK_BYTES)}); free some space` }
          : { ok: true, label: "storage", detail: storage.freeBytes === undefined ? "writable" : `writable, ${mb(storage.freeBytes)} free` },
    );
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
  } catch (error) {
    checks.push({ ok: false, label: "database", detail: `cannot read ${store.display}: ${(error as Error).message}` });
  } finally {
    await store.close();
  }
  return checks;
}

/** What an operator asks first when something looks off. Reads only: a mistyped KEEPWARM_DB is reported, not created. */
export const doctorCommand: Run<typeof doctorArgs> = async (_args, ctx) => {
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
  checks.push(...(await databaseChecks(env.KEEPWARM_DB)));
  for (const check of checks) ctx.out(`${check.ok ? "ok  " : "FAIL"}  ${check.label.padEnd(12)} ${check.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
};
