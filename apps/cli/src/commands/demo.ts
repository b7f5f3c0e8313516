import { applyRuleSet, DEFAULT_STATS_DAYS, generateDemoData, noisyRulesWithSuggestions, runSweep, UserError } from "@keepwarm/core";
import { defaultRulesText } from "@keepwarm/rules";
import { clearDemoInstall, demoInstallState, liveNudgesByRule } from "@keepwarm/store";
import type { Run } from "../command";
import { printNudges } from "../print-nudges";
import type { demoArgs } from "./index";

/** Without --verbose: enough to see what a rep receives, not a wall of text. */
const SHOWN_MESSAGES = 2;
const SHOWN_NUDGES = 2;

interface Message {
  /** "<@U0123>" or "#channel": who the console delivery addressed. */
  to: string;
  count: number;
  lines: string[];
}

/** Console delivery writes a header per recipient, then its nudges: regroup them as messages. */
function collect(messages: Message[], other: string[]): (text: string) => void {
  return (text) => {
    const header = /^\n── (?:Digest for (.+?): (\d+) customers need attention|Nudge for (.+?)) ─/.exec(text);
    if (header !== null) messages.push({ to: (header[1] ?? header[3]) as string, count: Number(header[2] ?? 1), lines: [text] });
    else if (text.startsWith("\n── ") || messages.length === 0) other.push(text);
    else messages[messages.length - 1]?.lines.push(text);
  };
}

const tally = (entries: Array<[string, string]>) => entries.map(([k, v]) => `${k} ${v}`).join(" · ");

/** The demo tells its story in one screen: what it built, what the shipped rules found, a few messages, what to try next. */
export const demoCommand: Run<typeof demoArgs> = async (values, ctx) => {
  const customers = values.customers === undefined ? 300 : Number(values.customers);
  if (!Number.isInteger(customers) || customers < 10 || customers > 100_000) throw new UserError("--customers must be a whole number from 10 to 100000");
  const store = await ctx.store();
  const { customers: count, demoCreatedAt: demoMark } = await demoInstallState(store.db);
  if (count > 0 && demoMark === undefined) {
    throw new UserError(`${store.display} already holds real data; run the demo on its own database: keepwarm demo --db ./data/demo.db`);
  }
  const now = Date.now();
  let built: string;
  if (count === 0 || values.reset) {
    await clearDemoInstall(store.db);
    const totals = await generateDemoData(store, { now, customers });
    built = `${totals.customers} demo customers with ${totals.touches} touches, ${totals.nps} NPS answers and ${totals.purchases} purchases`;
  } else {
    built = `the ${count} demo customers created ${demoMark} (--reset starts over)`;
  }
  // The demo's history ran on rules with a 20 % holdout (so stats can compare); today's sweep uses what ships.
  const { ruleSet } = await applyRuleSet(store, defaultRulesText(), {
    author: "keepwarm demo",
    source: "default rules",
    note: "the shipped defaults (the version before holds the demo history's rules, with a holdout)",
  });
  const report = await runSweep(store, { calendar: ctx.calendar, now, waitMs: 30_000 });
  const messages: Message[] = [];
  const other: string[] = [];
  const delivery = await printNudges(store, { ...ctx, out: collect(messages, other) }, now);

  ctx.out(`keepwarm demo: ${built}, in ${store.display}`);
  ctx.out(`rules v${ruleSet.version}: the shipped defaults (${ruleSet.ruleFile.rules.map((r) => r.id).join(", ")})`);
  if (report.created > 0) {
    const byRule = new Map<string, { nudged: number; heldOut: number }>();
    for (const n of report.nudges) {
      const row = byRule.get(n.ruleId) ?? { nudged: 0, heldOut: 0 };
      if (n.heldOut) row.heldOut++;
      else row.nudged++;
      byRule.set(n.ruleId, row);
    }
    const heldOut =
      report.heldOut > 0
        ? `${report.heldOut} held out (a control group: not sent)`
        : "none held out (the shipped rules have no holdout; stats compares the demo history's 20 % holdout)";
    ctx.out(`sweep #${report.runId}: ${report.evaluated} customers evaluated, ${report.created} nudges, ${heldOut}`);
    ctx.out(`  per rule:      ${tally([...byRule].map(([rule, r]) => [rule, `${r.nudged}${r.heldOut > 0 ? ` (+${r.heldOut} held out)` : ""}`]))}`);
  } else {
    const live = await liveNudgesByRule(store.db);
    ctx.out(`sweep #${report.runId}: ${report.evaluated} customers evaluated, no new nudges (the open ones came from an earlier run)`);
    ctx.out(`  open per rule: ${tally(live.map((r) => [r.ruleId, String(r.n)]))}`);
  }
  if (messages.length > 0) {
    ctx.out(`  who gets what: ${messages.map((m) => `${m.to} ${m.count}`).join(", ")} (${ctx.env.KEEPWARM_DIGEST_THRESHOLD} or more arrive as one digest)`);
  }
  if (delivery.deferred > 0) ctx.out(`  ${delivery.deferred} more wait for tomorrow (KEEPWARM_MAX_NUDGES_PER_DAY per rep and day)`);
  if (delivery.escalated > 0) ctx.out(`  ${delivery.escalated} escalated to a manager`);
  const cli = ctx.vars.npm_lifecycle_event === "keepwarm" ? "pnpm keepwarm" : "keepwarm";
  const db = ctx.vars.KEEPWARM_DB === undefined && values.db === undefined ? "" : ` --db ${store.display}`;
  // The demo's history makes a rule noisy on purpose: show the flag and the stricter threshold its backtest proposes.
  for (const { noise, suggestion } of await noisyRulesWithSuggestions(store, { calendar: ctx.calendar, now, days: DEFAULT_STATS_DAYS })) {
    ctx.out(`noisy rule ${noise.ruleId}: ${noise.evidence.join("; ")}`);
    const p = suggestion?.proposed;
    if (suggestion === null || p === null || p === undefined) continue;
    const share = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);
    const c = suggestion.current;
    const t = suggestion.threshold;
    ctx.out(
      `  suggestion: ${t.fact} ${t.operator} ${p.value} instead of ${t.value}; backtest over ${suggestion.days} days: ${c.nudgesPerWeek.toFixed(1)} → ${p.nudgesPerWeek.toFixed(1)} nudges/week, touched within 7 days ${share(c.touchedShare)} → ${share(p.touchedShare)}, ${p.missedChurned.length} later-churned customers missed`,
    );
    ctx.out(`  review it: ${cli} rules suggest ${noise.ruleId} --out proposal.json${db}, then rules diff / preview / apply proposal.json`);
  }

  const shown = values.verbose ? messages : messages.slice(0, SHOWN_MESSAGES);
  if (shown.length > 0) {
    ctx.out("");
    ctx.out(
      values.verbose ? "every message:" : `the first ${shown.length} of ${messages.length} messages, ${SHOWN_NUDGES} nudges each (--verbose prints all):`,
    );
    for (const m of shown) {
      const [header, ...nudges] = m.lines;
      ctx.out(header as string);
      for (const nudge of values.verbose ? nudges : nudges.slice(0, SHOWN_NUDGES)) ctx.out(nudge);
      if (!values.verbose && nudges.length > SHOWN_NUDGES) ctx.out(`  … ${nudges.length - SHOWN_NUDGES} more in this digest`);
    }
    if (values.verbose) for (const line of other) ctx.out(line);
  }
  // The first customer shown above, so the touch resolves a nudge the reader just saw.
  const customer = /touch "([^"]+)"/.exec(shown[0]?.lines.join("\n") ?? "")?.[1] ?? "C-0001";
  ctx.out("");
  ctx.out("next, try:");
  ctx.out(`  ${cli} touch ${customer} call today "checked in"${db}   log a touch: its nudge resolves`);
  ctx.out(`  ${cli} stats${db}   KPIs, the nudge funnel and the holdout comparison`);
  ctx.out(`  ${cli} report --out report.html${db}   the same as an HTML page with charts`);
  return 0;
};
