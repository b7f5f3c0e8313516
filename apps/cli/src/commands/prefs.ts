import {
  getActiveRuleSet,
  personalCap,
  preferencesList,
  type PreferencesInput,
  preferencesSummary,
  type RepPreferences,
  RULE_MODES,
  savePreferences,
  storedPreferences,
  UserError,
  WEEKDAYS,
} from "@keepwarm/core";
import { isSlackUserId } from "@keepwarm/rules";
import type { Run } from "../command";
import type { prefsSetArgs, prefsShowArgs } from "./index";

/** `--user U1,U2` (or the option given twice): Slack user ids, checked. */
function users(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const id of ids) if (!isSlackUserId(id)) throw new UserError(`--user: "${id}" is not a Slack user id (like U0123ABCD)`);
  return ids;
}

const asJson = (p: RepPreferences, teamCap: number) => ({
  slackId: p.slackId,
  ruleModes: p.ruleModes,
  quietHours: p.quietHours,
  quietDays: p.quietDays.map((d) => WEEKDAYS[d - 1]),
  dailyCap: p.dailyCap,
  effectiveCap: personalCap(p, teamCap),
  digestHour: p.digestHour,
  timeZone: p.timeZone,
  updatedAt: p.updatedAt === 0 ? null : new Date(p.updatedAt).toISOString(),
  updatedBy: p.updatedBy,
});

/** `prefs show`: reps' delivery preferences, as each set them in the App Home. */
export const prefsShowCommand: Run<typeof prefsShowArgs> = async (values, ctx) => {
  const store = await ctx.store({ readonlyFallback: true });
  const ids = users(values.user);
  const list = ids === undefined ? await storedPreferences(store) : await preferencesList(store, ids);
  const teamCap = ctx.env.KEEPWARM_MAX_NUDGES_PER_DAY;
  if (values.json) {
    ctx.out(
      JSON.stringify(
        list.map((p) => asJson(p, teamCap)),
        null,
        2,
      ),
    );
    return 0;
  }
  if (list.length === 0) ctx.out("no rep has set preferences yet");
  const rules = (await getActiveRuleSet(store))?.ruleFile.rules ?? [];
  for (const p of list) ctx.out(`${p.slackId}: ${preferencesSummary(p, rules, teamCap)}`);
  return 0;
};

const hour = (text: string, option: string): number => {
  if (!/^\d{1,2}(:00)?$/.test(text)) throw new UserError(`${option}: "${text}" is not a whole hour (0–23, or HH:00)`);
  return Number(text.slice(0, 2).replace(":", ""));
};

/** `prefs set`: an operator sets a rep's preferences (tests, support); the same checks as the App Home form. */
export const prefsSetCommand: Run<typeof prefsSetArgs> = async (values, ctx) => {
  const [user, ...more] = users(values.user) ?? [];
  if (user === undefined || more.length > 0) throw new UserError("--user: give exactly one Slack user id");
  const store = await ctx.store();
  const [current] = await preferencesList(store, [user]);
  if (current === undefined) throw new UserError(`no preferences for ${user}`);
  const input: PreferencesInput = {
    ruleModes: { ...current.ruleModes },
    quietStart: current.quietHours?.start ?? null,
    quietEnd: current.quietHours?.end ?? null,
    quietDays: current.quietDays,
    dailyCap: current.dailyCap,
    digestHour: current.digestHour,
  };
  if (values.quiet !== undefined) {
    if (values.quiet === "none") {
      input.quietStart = null;
      input.quietEnd = null;
    } else {
      const [from, to, extra] = values.quiet.split("-");
      if (from === undefined || to === undefined || extra !== undefined) throw new UserError(`--quiet: "${values.quiet}" is not FROM-TO (e.g. 22-7) or none`);
      input.quietStart = hour(from, "--quiet");
      input.quietEnd = hour(to, "--quiet");
    }
  }
  if (values["quiet-days"] !== undefined) {
    input.quietDays =
      values["quiet-days"] === "none"
        ? []
        : values["quiet-days"].split(",").map((day) => {
            const index = WEEKDAYS.findIndex((w) => w.toLowerCase() === day.trim().slice(0, 3).toLowerCase());
            if (index < 0) throw new UserError(`--quiet-days: "${day}" is not a weekday (${WEEKDAYS.join(", ")})`);
            return index + 1;
          });
  }
  if (values.cap !== undefined) {
    input.dailyCap = values.cap === "team" ? null : /^\d{1,6}$/.test(values.cap) ? Number(values.cap) : Number.NaN;
  }
  if (values["digest-hour"] !== undefined) input.digestHour = hour(values["digest-hour"], "--digest-hour");
  for (const pair of values.rule === undefined ? [] : values.rule.split(",")) {
    const [rule, mode] = pair.split("=").map((s) => s.trim());
    if (!rule || !mode) throw new UserError(`--rule: "${pair}" is not RULE=MODE (modes: ${RULE_MODES.join(", ")})`);
    input.ruleModes[rule] = mode;
  }
  const saved = await savePreferences(store, user, input, {
    teamCap: ctx.env.KEEPWARM_MAX_NUDGES_PER_DAY,
    now: Date.now(),
    by: values.by ?? ctx.vars.USER ?? null,
  });
  if (!saved.ok) {
    const [field, message] = Object.entries(saved.errors)[0] ?? ["", "invalid"];
    throw new UserError(`${field}: ${message}; nothing saved`);
  }
  const rules = (await getActiveRuleSet(store))?.ruleFile.rules ?? [];
  if (values.json) ctx.out(JSON.stringify(asJson(saved.preferences, ctx.env.KEEPWARM_MAX_NUDGES_PER_DAY)));
  else ctx.out(`${user}: ${preferencesSummary(saved.preferences, rules, ctx.env.KEEPWARM_MAX_NUDGES_PER_DAY)}`);
  return 0;
};
