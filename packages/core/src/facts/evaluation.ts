import {
  aggregateKey,
  type Calendar,
  type CompiledRule,
  compileRules,
  createReferenceEvaluator,
  type FactProgram,
  type Facts,
  lastAt,
  type Rule,
  type RuleFile,
  ruleFileProgram,
} from "@keepwarm/rules";
import type { FactScanRow, ScanColumn } from "@keepwarm/store";
import { LazyMatch } from "../lazy-match";
import type { Match } from "../sweep";
import { resolveColumn, scanColumns } from "./columns";

/**
 * One rule set, ready to evaluate: its enabled rules compiled, and the program of the
 * facts they use. The sweep, preview and the day-by-day backtest all evaluate through
 * this, so "which facts, which columns, which rules matched" has one definition.
 */
export interface Evaluation {
  rules: Rule[];
  ruleIds: Set<string>;
  compiled: CompiledRule[];
  program: FactProgram;
  byId: Map<string, Rule>;
  /** json-rules-engine itself, one run per customer, when asked for ("reference"). */
  reference: ((facts: Facts) => Promise<string[]>) | undefined;
}

export function prepareEvaluation(ruleFile: RuleFile, engine: "compiled" | "reference" = "compiled"): Evaluation {
  const rules = ruleFile.rules.filter((rule) => rule.enabled);
  return {
    rules,
    ruleIds: new Set(rules.map((rule) => rule.id)),
    compiled: compileRules(rules),
    program: ruleFileProgram(ruleFile),
    byId: new Map(rules.map((rule) => [rule.id, rule])),
    reference: engine === "reference" ? createReferenceEvaluator(rules) : undefined,
  };
}

const LAST_TOUCH = `${aggregateKey(lastAt("touches"))}@0`;

/**
 * The scan columns of an evaluation at `now`, and where among them the customer's last
 * touch is: the sweep plans every nudge with it (only a newer touch resolves the
 * nudge), whether or not a rule reads a touch fact. Shared with the facts when they
 * need it, one extra column when they do not.
 */
export function sweepColumns(evaluation: Evaluation, now: number, calendar: Calendar): { columns: ScanColumn[]; lastTouch: number } {
  const columns = scanColumns(evaluation.program, now, calendar);
  let lastTouch = columns.findIndex((column) => column.name === LAST_TOUCH);
  if (lastTouch < 0) {
    lastTouch = columns.length;
    columns.push(resolveColumn({ name: LAST_TOUCH, aggregate: lastAt("touches"), daysAgo: 0 }, now, calendar));
  }
  return { columns, lastTouch };
}

/** Evaluate a chunk of scan rows: the matches, in row then rule order. */
export async function matchRows(
  evaluation: Evaluation,
  rows: readonly FactScanRow[],
  at: { now: number; calendar: Calendar; lastTouch: number },
  onEvaluated?: () => void,
): Promise<Match[]> {
  const { program, compiled, reference, byId } = evaluation;
  const matches: Match[] = [];
  for (const row of rows) {
    onEvaluated?.();
    const facts = program.evaluate(row, at.now, at.calendar);
    const lastTouchAt = (row.values[at.lastTouch] as number | null) ?? null;
    // The facts of earlier instants are kept only for customers that matched.
    let context: ConstructorParameters<typeof LazyMatch>[3] | undefined;
    const match = (rule: Rule) => {
      context ??= { health: program.health, past: program.past() };
      matches.push(new LazyMatch(rule, row, facts, context, lastTouchAt));
    };
    if (reference !== undefined) {
      for (const id of await reference(facts)) {
        const rule = byId.get(id);
        if (rule !== undefined) match(rule);
      }
      continue;
    }
    for (const { rule, matches: predicate } of compiled) if (predicate(facts)) match(rule);
  }
  return matches;
}
