import type { Calendar, RuleFile } from "@keepwarm/rules";
import { churnDates, DAY_MS, type Store, touchTimes } from "@keepwarm/store";
import {
  assertBacktestDays,
  type BacktestCounts,
  type BacktestOptions,
  type BacktestReport,
  type BacktestRuleReport,
  isoWeek,
  outcomeHorizon,
} from "./backtest";
import { findMatches } from "./sweep";

/*
 * The backtest as first written: a full fact scan per replayed day. It is the
 * definition the one-pass backtest (backtest.ts) is checked against in
 * test/backtest-one-pass.test.ts, and the baseline of bench/backtest.ts. Not used by
 * the product.
 */

interface Fired {
  ruleId: string;
  customerId: number;
  externalId: string;
  name: string;
  explanation: string;
  heldOut: boolean;
  day: number;
  at: number;
}

interface LiveNudge {
  lastTouchAt: number | null;
  at: number;
  resolveOnTouch: boolean;
  cooldownDays: number;
}

/**
 * Replay a rule file over stored history: one evaluation at the end of each past
 * day, with facts as they stood then, and the sweep's own policy simulated in
 * memory — one live nudge per (rule, customer); a newer touch resolves it (when
 * resolveOnTouch) and starts the cooldown; a nudge whose conditions stop holding
 * expires without a cooldown, exactly as runSweep's expiry does. Snoozes and
 * dismissals are not in the history, so none are simulated. Writes nothing.
 */
export async function backtestRuleSetDayByDay(store: Store, ruleFile: RuleFile, options: BacktestOptions): Promise<BacktestReport> {
  assertBacktestDays(options.days);
  const now = options.now ?? Date.now();
  const { calendar, days } = options;
  const sampleSize = Math.max(0, options.sampleSize ?? 10);
  const lastDay = calendar.dayNumber(now) - 1;
  const firstDay = lastDay - days + 1;
  const ruleSet = { version: 0, ruleFile, json: "" };

  const live = new Map<string, LiveNudge>();
  const coolingUntil = new Map<string, number>();
  const fired: Fired[] = [];
  let evaluations = 0;
  for (let day = firstDay; day <= lastDay; day++) {
    const dayEnd = calendar.startOfDay(day + 1) - 1;
    // Touches logged during the day resolve live nudges before the day's sweep: the first
    // touch after the nudge's basis (the later of its last touch and its creation).
    const resolvable = [...live].filter(([, nudge]) => nudge.resolveOnTouch);
    const customerOf = (key: string) => Number(key.slice(key.indexOf("\u0000") + 1));
    const basis = (nudge: LiveNudge) => Math.max(nudge.lastTouchAt ?? -1, nudge.at);
    const touches = await touchTimes(
      store.db,
      resolvable.map(([key]) => customerOf(key)),
      resolvable.reduce((min, [, nudge]) => Math.min(min, basis(nudge)), Number.POSITIVE_INFINITY),
      dayEnd,
    );
    for (const [key, nudge] of resolvable) {
      const touchAt = touches.get(customerOf(key))?.find((at) => at > basis(nudge));
      if (touchAt === undefined) continue;
      live.delete(key);
      coolingUntil.set(key, touchAt + nudge.cooldownDays * DAY_MS);
    }
    const { evaluated, matches } = await findMatches(store, ruleSet, { calendar, now: dayEnd });
    evaluations += evaluated;
    const seen = new Set<string>();
    for (const match of matches) {
      const key = `${match.rule.id}\u0000${match.customerId}`;
      seen.add(key);
      if (live.has(key) || (coolingUntil.get(key) ?? -Infinity) > dayEnd) continue;
      live.set(key, {
        lastTouchAt: match.lastTouchAt,
        at: dayEnd,
        resolveOnTouch: match.rule.nudge.resolveOnTouch,
        cooldownDays: match.rule.nudge.cooldownDays,
      });
      fired.push({
        ruleId: match.rule.id,
        customerId: match.customerId,
        externalId: match.customerExternalId,
        name: match.customerName,
        explanation: match.explanation,
        heldOut: match.heldOut,
        day,
        at: dayEnd,
      });
    }
    for (const key of live.keys()) if (!seen.has(key)) live.delete(key);
    options.onProgress?.(day - firstDay + 1, days);
  }
  return await summarise(store, ruleFile, fired, { calendar, now, firstDay, lastDay, days, evaluations, sampleSize });
}

async function summarise(
  store: Store,
  ruleFile: RuleFile,
  fired: readonly Fired[],
  context: { calendar: Calendar; now: number; firstDay: number; lastDay: number; days: number; evaluations: number; sampleSize: number },
): Promise<BacktestReport> {
  const churnedAt = await churnDates(store.db);
  const touches = await touchTimes(
    store.db,
    fired.map((nudge) => nudge.customerId),
    fired.reduce((min, nudge) => Math.min(min, nudge.at), Number.POSITIVE_INFINITY),
    context.now,
  );
  const outcome = (nudge: Fired) => {
    const horizon = outcomeHorizon(context.calendar, nudge.at, context.now);
    const churned = churnedAt.get(nudge.customerId);
    return {
      touched: touches.get(nudge.customerId)?.some((at) => at > nudge.at && at <= horizon) ?? false,
      churned: churned !== undefined && churned > nudge.at && churned <= context.now,
    };
  };
  const rules: BacktestRuleReport[] = [];
  for (const rule of ruleFile.rules.filter((r) => r.enabled)) {
    const mine = fired.filter((nudge) => nudge.ruleId === rule.id);
    const weeks = new Map<string, BacktestCounts>();
    const report: BacktestRuleReport = {
      ruleId: rule.id,
      name: rule.name,
      fired: mine.length,
      touchedWithin7Days: 0,
      churned: 0,
      customers: new Set(mine.map((nudge) => nudge.customerId)).size,
      heldOut: mine.filter((nudge) => nudge.heldOut).length,
      churnedCustomers: [...new Set(mine.filter((nudge) => outcome(nudge).churned).map((nudge) => nudge.externalId))].sort(),
      weeks: [],
      sample: [],
    };
    for (const nudge of mine) {
      const { touched, churned } = outcome(nudge);
      const weekKey = isoWeek(nudge.day);
      const week = weeks.get(weekKey) ?? { fired: 0, touchedWithin7Days: 0, churned: 0 };
      weeks.set(weekKey, week);
      week.fired++;
      if (touched) {
        week.touchedWithin7Days++;
        report.touchedWithin7Days++;
      }
      if (churned) {
        week.churned++;
        report.churned++;
      }
      if (report.sample.length < context.sampleSize) {
        report.sample.push({
          date: context.calendar.isoDate(nudge.at),
          customerId: nudge.externalId,
          name: nudge.name,
          explanation: nudge.explanation,
          heldOut: nudge.heldOut,
          touchedWithin7Days: touched,
          churned,
        });
      }
    }
    report.weeks = [...weeks].map(([week, counts]) => ({ week, ...counts }));
    rules.push(report);
  }
  const sum = (field: "fired" | "touchedWithin7Days" | "churned" | "heldOut") => rules.reduce((total, rule) => total + rule[field], 0);
  return {
    from: context.calendar.isoDate(context.calendar.startOfDay(context.firstDay)),
    to: context.calendar.isoDate(context.calendar.startOfDay(context.lastDay)),
    days: context.days,
    asOf: context.now,
    evaluations: context.evaluations,
    totals: {
      fired: sum("fired"),
      touchedWithin7Days: sum("touchedWithin7Days"),
      churned: sum("churned"),
      heldOut: sum("heldOut"),
      customers: new Set(fired.map((nudge) => nudge.customerId)).size,
    },
    rules,
  };
}
