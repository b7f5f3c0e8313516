import { readFileSync } from "node:fs";
import {
  countIn,
  defineFact,
  FACTS,
  factTableMarkdown,
  lastAt,
  type RuleFile,
  ruleFileJsonSchema,
  ruleFileProgram,
  validateRuleFile,
  withFactTable,
} from "@keepwarm/rules";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backtestRuleSet, prepareEvaluation, sweepColumns } from "../src/index";
import { addCustomer, addNps, addTouch, daysBefore, type Fixture, freshStore, NOW, sweepAt, UTC } from "./sweep-fixtures";

/*
 * Adding a fact is one definition: the test below defines one, in one place, and
 * finds it in the catalog, the JSON Schema, the docs table, validation, the sweep (its
 * SQL aggregate), the backtest (its day-by-day replay) and the explanation.
 */

let fixture: Fixture;
beforeEach(async () => {
  fixture = await freshStore();
});
afterEach(() => fixture.close());

const otherTouches = defineFact({
  name: "otherTouchesLast60Days",
  type: "number",
  nullable: false,
  unit: "touches",
  description: "Touches of kind other on the last 60 calendar days.",
  example: "2",
  aggregates: { n: countIn("touches", [0, 59]), last: lastAt("touches", ["other"]) },
  compute: ({ n }) => Number(n ?? 0),
  explain: { describe: (facts) => `${facts.otherTouchesLast60Days} touches of the new kind in 60 days` },
});

function ruleFileOf(conditions: unknown): RuleFile {
  const result = validateRuleFile({ rules: [{ id: "new-fact", name: "New fact", conditions, nudge: { message: "{{customer.name}}: {{explanation}}" } }] });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

describe("a fact defined in one place", () => {
  it("is in the catalog, the schema, the docs table, validation, the sweep, the backtest and the explanation", async () => {
    const remove = FACTS.add(otherTouches);
    try {
      expect(FACTS.names).toContain("otherTouchesLast60Days");
      const schema = ruleFileJsonSchema() as { $defs: { fact: { anyOf: Array<{ const?: string }> } } };
      expect(schema.$defs.fact.anyOf.map((entry) => entry.const)).toContain("otherTouchesLast60Days");
      expect(factTableMarkdown()).toContain("| `otherTouchesLast60Days` | number | touches | Touches of kind other on the last 60 calendar days. |");
      // What the docs generator (scripts/generate-facts.ts) writes into docs/rules.md.
      const docs = withFactTable(readFileSync(new URL("../../../docs/rules.md", import.meta.url), "utf8"));
      expect(docs).toContain("| `otherTouchesLast60Days` | number | touches |");

      const ruleFile = ruleFileOf({ all: [{ fact: "otherTouchesLast60Days", operator: "greaterThanInclusive", value: 2 }] });
      const { store } = fixture;
      const busy = await addCustomer(store, { id: "C-BUSY" });
      await addTouch(store, busy, daysBefore(3), "other");
      await addTouch(store, busy, daysBefore(50), "call");
      await addCustomer(store, { id: "C-QUIET" });

      // The sweep's SQL scan reads its aggregates as calendar-day windows, and nothing else.
      const { columns } = sweepColumns(prepareEvaluation(ruleFile), NOW, UTC);
      expect(columns.map((c) => c.name)).toEqual(["touches.count(0..59)@0", "touches.lastAt[other]@0", "touches.lastAt@0"]);
      expect(columns[0]).toMatchObject({ of: "touches", op: "count", from: UTC.startOfDay(UTC.dayNumber(NOW) - 59), to: NOW });
      const report = await sweepAt(store, NOW, { dryRun: true, ruleSet: { version: 0, ruleFile, json: "" } });
      expect(report.nudges.map((n) => [n.customerId, n.explanation])).toEqual([["C-BUSY", "2 touches of the new kind in 60 days (rule: ≥ 2)"]]);

      // The backtest replays the same aggregate: on the day after the 50-day-old call was still in the window.
      const backtest = await backtestRuleSet(store, ruleFile, { calendar: UTC, now: NOW, days: 5 });
      expect(backtest.rules[0]?.fired).toBe(1);
      expect(backtest.rules[0]?.sample[0]?.explanation).toBe("2 touches of the new kind in 60 days (rule: ≥ 2)");
    } finally {
      remove();
    }
    expect(FACTS.names).not.toContain("otherTouchesLast60Days");
  });

  it("costs a sweep whose rules do not read it nothing: no column, no subquery", () => {
    const ruleFile = ruleFileOf({ all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] });
    const before = ruleFileProgram(ruleFile).columns.map((c) => c.name);
    const remove = FACTS.add(otherTouches);
    try {
      expect(ruleFileProgram(ruleFile).columns.map((c) => c.name)).toEqual(before);
    } finally {
      remove();
    }
  });
});

describe("the sweep computes only the facts its rules use", () => {
  it("rules reading no NPS fact scan no NPS aggregate; the facts their phrases read come along", () => {
    const quiet = ruleFileProgram(ruleFileOf({ all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] }));
    expect(quiet.columns.map((c) => c.aggregate.of)).not.toContain("nps");
    expect(quiet.facts).toEqual(["daysSinceLastTouch", "neverTouched", "lastTouchKind"]);
    const nps = ruleFileProgram(ruleFileOf({ all: [{ fact: "npsChange", operator: "lessThanInclusive", value: -3 }] }));
    expect(nps.columns.map((c) => c.name)).toEqual(["nps.latest#1@0", "nps.latest#2@0"]);
    expect(nps.facts).toEqual(["npsLatest", "npsPrevious", "npsChange"]);
    const record = ruleFileProgram(ruleFileOf({ all: [{ fact: "segment", operator: "equal", value: "smb" }] }));
    expect(record.columns).toEqual([]);
  });

  it("a sweep of rules that read no NPS fact gives the same nudges with NPS history present", async () => {
    const { store } = fixture;
    const id = await addCustomer(store, { id: "C-1", segment: "smb" });
    await addNps(store, id, 3, daysBefore(2));
    const ruleFile = ruleFileOf({ all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] });
    const report = await sweepAt(store, NOW, { dryRun: true, ruleSet: { version: 0, ruleFile, json: "" } });
    expect(report.nudges.map((n) => n.explanation)).toEqual(["Never touched (customer for 1000 days) (rule: ≥ 30 days)"]);
  });
});
