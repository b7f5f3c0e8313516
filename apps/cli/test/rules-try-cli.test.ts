import { statSync } from "node:fs";
import { engineOf, openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVE_RULES, buildHistory, CANDIDATE_RULES, tableContents, tableCounts } from "../../../packages/core/test/rules-history-fixture";

// The fixture's "now" (Monday 2026-06-15 12:00 UTC); the hand computations are in
// packages/core/test/rules-preview-backtest.test.ts, next to the same numbers.
const AS_OF = "2026-06-15T12:00";
const tmp = tempDir("keepwarm-rules-cli-");
let db = "";
const env = { KEEPWARM_DB: "", KEEPWARM_TZ: "UTC" };
const candidate = tmp.file("candidate.json", JSON.stringify(CANDIDATE_RULES, null, 2));
const active = tmp.file("active.json", JSON.stringify(ACTIVE_RULES, null, 2));

beforeAll(async () => {
  db = await freshDatabase(tmp, "history.db");
  env.KEEPWARM_DB = db;
  const store = await openStore(db);
  await buildHistory(store);
  await store.close();
  const applied = await runCli(["rules", "apply", active], env);
  expect(applied.stdout).toContain("as rules version 1");
});
afterAll(() => tmp.cleanup());

/**
 * What a write would change: every table's row count and rows; on SQLite also the
 * database file's size and mtime, and the WAL's size (a write lands in the WAL first; a
 * clean close moves it into the file). The -shm index file is scratch space readers
 * create too.
 */
async function footprint(): Promise<unknown> {
  const size = (path: string) => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  const sqlite = engineOf(db) === "sqlite";
  const files = sqlite ? { db: { size: size(db), mtime: statSync(db).mtimeMs }, walBytes: size(`${db}-wal`) } : null;
  // Read-only on SQLite, so that looking leaves no trace; PostgreSQL reads leave none anyway.
  const store = await openStore(db, sqlite ? { readonly: true } : { migrate: false });
  try {
    return { files, counts: await tableCounts(store), rows: await tableContents(store) };
  } finally {
    await store.close();
  }
}

describe("keepwarm rules preview", () => {
  it("prints per rule the customers added and removed against the active version", async () => {
    const result = await runCli(["rules", "preview", candidate, "--as-of", AS_OF], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`preview of ${candidate} against active version 1: 9 customers evaluated as of 2026-06-15`);
    expect(lines).toContain("  quiet-10 (changed): 4 → 4 customers (+1 −1)");
    expect(lines).toContain("      − Juniper (J)");
    expect(lines).toContain("  nps-low (removed): 2 → 0 customers (+0 −2)");
    expect(lines).toContain("  renewal-soon (added): 0 → 1 customers (+1 −0)");
    expect(result.stdout).toMatch(/\+ Ivy \(I\): Last touch .*8 days ago/);
  });

  it("gives JSON with capped samples and writes nothing to the database", async () => {
    const before = await footprint();
    const result = await runCli(["rules", "preview", candidate, "--json", "--sample", "1", "--as-of", AS_OF], env);
    expect(result.code).toBe(0);
    const preview = JSON.parse(result.stdout);
    expect(preview.rules.find((r: { ruleId: string }) => r.ruleId === "nps-low")).toMatchObject({
      before: 2,
      after: 0,
      removedCount: 2,
      removed: [{ customerId: "D" }],
    });
    expect(await footprint()).toEqual(before);
  });
});

describe("keepwarm rules backtest", () => {
  it("replays past days and reports per rule and ISO week, writing nothing", async () => {
    const before = await footprint();
    const result = await runCli(["rules", "backtest", active, "--days", "14", "--json", "--as-of", AS_OF], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.totals).toEqual({ fired: 10, customers: 8, touchedWithin7Days: 4, churned: 1, heldOut: 0 });
    expect(report.rules.map((r: { ruleId: string; fired: number; weeks: unknown[] }) => [r.ruleId, r.fired, r.weeks])).toEqual([
      [
        "quiet-10",
        5,
        [
          { week: "2026-W23", fired: 3, touchedWithin7Days: 1, churned: 1 },
          { week: "2026-W24", fired: 2, touchedWithin7Days: 0, churned: 0 },
        ],
      ],
      [
        "nps-low",
        4,
        [
          { week: "2026-W23", fired: 2, touchedWithin7Days: 1, churned: 0 },
          { week: "2026-W24", fired: 2, touchedWithin7Days: 1, churned: 0 },
        ],
      ],
      ["buyer", 1, [{ week: "2026-W23", fired: 1, touchedWithin7Days: 1, churned: 0 }]],
    ]);
    expect(await footprint()).toEqual(before);
  });

  it("prints a readable report with samples and their outcomes", async () => {
    const result = await runCli(["rules", "backtest", active, "--days", "14", "--as-of", AS_OF], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`backtest of ${active}: 14 days (2026-06-01 → 2026-06-14), 126 customer-days evaluated`);
    expect(result.stdout).toContain("  nps-low: 4 nudges for 2 customers; touched within 7 days: 2 (50%); churned: 0");
    expect(result.stdout).toMatch(/2026-06-01 {2}Birch \(B\): .*\[churned\]/);
    expect(result.stdout).toContain("total: 10 nudges for 8 customers; touched within 7 days: 4 (40%); churned: 1. Nothing was written.");
  });

  it.each([
    [["--days", "0"], 'keepwarm: error: --days must be a whole number from 1 to 365; got "0"'],
    [["--days", "10000"], 'keepwarm: error: --days must be a whole number from 1 to 365; got "10000"'],
    [["--days", "two"], 'keepwarm: error: --days must be a whole number from 1 to 365; got "two"'],
    [[], "keepwarm: error: keepwarm rules backtest: missing --days (see keepwarm rules backtest --help)"],
  ])("refuses %j with exit 1 and one line", async (extra, message) => {
    const result = await runCli(["rules", "backtest", active, ...extra], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe(message);
  });
});

describe("bad candidate files", () => {
  it("refuses a missing file in one line", async () => {
    const result = await runCli(["rules", "preview", tmp.file("nope.json")], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`keepwarm: error: cannot read ${tmp.file("nope.json")}: no such file\n`);
  });

  it("refuses an invalid file with its errors by JSON path, and changes nothing", async () => {
    const bad = structuredClone(ACTIVE_RULES) as { rules: Array<{ conditions: { all: Array<{ fact: string }> } }> };
    if (bad.rules[0]) (bad.rules[0].conditions.all[1] as { fact: string }).fact = "daysSinceLastTuch";
    const file = tmp.file("bad.json", JSON.stringify(bad));
    const before = await footprint();
    const result = await runCli(["rules", "backtest", file, "--days", "7"], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${file}: rules[0].conditions.all[1].fact: unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)`);
    expect(result.stderr).toContain(`keepwarm: error: ${file} is invalid (1 error)`);
    expect(await footprint()).toEqual(before);
  });
});
