import { statSync } from "node:fs";
import { Calendar, type RuleFile, validateRuleFile } from "@keepwarm/rules";
import { openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRuleSet, backtestRuleSet, isoWeek, previewRuleSet } from "../src/index";
import { ACTIVE_RULES, buildHistory, CANDIDATE_RULES, NOW, tableContents, tableCounts } from "./rules-history-fixture";

const UTC = new Calendar("UTC");
const tmp = tempDir("keepwarm-rules-");
let store: Store;

function ruleFile(value: unknown): RuleFile {
  const result = validateRuleFile(value);
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

beforeAll(async () => {
  store = await openStore(await migratedDatabase(tmp, "history.db"));
  await buildHistory(store);
  await applyRuleSet(store, JSON.stringify(ACTIVE_RULES, null, 2), { author: "test", source: "fixture", now: NOW - 86_400_000 });
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

/**
 * What a write would change: every table's row count and rows, on both engines; on
 * SQLite also the database file's and the WAL's sizes and mtimes (any write, even one
 * that rewrites a value with itself, lands in the WAL).
 */
async function footprint(): Promise<unknown> {
  const files =
    store.engine === "sqlite"
      ? [store.location, `${store.location}-wal`].map((path) => {
          try {
            const stat = statSync(path);
            return [stat.size, stat.mtimeMs];
          } catch {
            return null;
          }
        })
      : null;
  return { counts: await tableCounts(store), rows: await tableContents(store), files };
}

describe("previewRuleSet", () => {
  it("reports per rule the customers added and removed against the active version, as a hand count gives", async () => {
    const preview = await previewRuleSet(store, ruleFile(CANDIDATE_RULES), { calendar: UTC, now: NOW, sampleSize: 10 });
    expect(preview.activeVersion).toBe(1);
    // Everyone but B (churned 06-10) exists on 06-15: A C D E F G H I J.
    expect(preview.evaluated).toBe(9);
    const byId = Object.fromEntries(preview.rules.map((r) => [r.ruleId, r]));
    expect(preview.rules.map((r) => [r.ruleId, r.status])).toEqual([
      ["quiet-10", "changed"],
      ["buyer", "unchanged"],
      ["renewal-soon", "added"],
      ["nps-low", "removed"],
    ]);
    // Days since last touch on 06-15 for the smb customers: A 10 (06-05), C 12 (06-03),
    // H 45 (05-01), I 8 (06-07), J 165 (since 01-01, never touched).
    // Active ≥ 10: A C H J = 4. Candidate ≥ 7 and touched at least once: A C H I = 4.
    expect(byId["quiet-10"]).toMatchObject({ before: 4, after: 4, addedCount: 1, removedCount: 1, removed: [{ customerId: "J", name: "Juniper" }] });
    expect(byId["quiet-10"]?.added).toEqual([{ customerId: "I", name: "Ivy", explanation: expect.stringContaining("8 days ago") }]);
    // F: 3 purchases in 90 days and not loyal, under both versions; G is loyal.
    expect(byId.buyer).toMatchObject({ before: 1, after: 1, added: [], removed: [], addedCount: 0, removedCount: 0 });
    // G renews 07-01: 16 days; A renews 08-01: 47 days, outside 0…30.
    expect(byId["renewal-soon"]).toMatchObject({ before: 0, after: 1, added: [{ customerId: "G", name: "Ginkgo" }] });
    // Latest NPS ≤ 6: D (4) and E (3 on 06-11); the candidate has no such rule.
    expect(byId["nps-low"]).toMatchObject({ before: 2, after: 0, removedCount: 2 });
    expect(byId["nps-low"]?.removed.map((c) => c.customerId)).toEqual(["D", "E"]);
  });

  it("caps the samples at sampleSize but still counts every customer", async () => {
    const preview = await previewRuleSet(store, ruleFile(CANDIDATE_RULES), { calendar: UTC, now: NOW, sampleSize: 1 });
    const npsLow = preview.rules.find((r) => r.ruleId === "nps-low");
    expect(npsLow?.removed).toHaveLength(1);
    expect(npsLow?.removedCount).toBe(2);
  });

  it("writes nothing: every table's rows (and on SQLite the files) stay as they were", async () => {
    const before = await footprint();
    await previewRuleSet(store, ruleFile(CANDIDATE_RULES), { calendar: UTC, now: NOW });
    expect(await footprint()).toEqual(before);
  });
});

describe("backtestRuleSet", () => {
  it("replays 14 past days with dedupe and cooldown and gives the hand-computed numbers", async () => {
    const report = await backtestRuleSet(store, ruleFile(ACTIVE_RULES), { calendar: UTC, now: NOW, days: 14, sampleSize: 10 });
    expect(report).toMatchObject({ from: "2026-06-01", to: "2026-06-14", days: 14 });
    // Customer-days: A C D E F G I on all 14 days = 98; B until it churned (06-01…06-09) = 9;
    // J exists from its `since` (01-01) = 14; H from its import (06-10…06-14) = 5. 98 + 9 + 14 + 5 = 126.
    expect(report.evaluations).toBe(126);
    const byId = Object.fromEntries(report.rules.map((r) => [r.ruleId, r]));

    // quiet-10 (smb, ≥ 10 days, cooldown 3):
    //   A fires 06-01 (12 days since 05-20); touched 06-05 → resolved, quiet again only from 06-15.
    //   B fires 06-01; expires on 06-10 when it churns — counted as churned.
    //   J fires 06-01 (exists since 01-01, never touched) and stays open.
    //   H fires 06-10, the day it was imported (last touch 05-01 = 40 days); not before.
    //   C fires 06-13 (10 days after its 06-03 touch).
    //   I never reaches 10 days (touches 05-31, 06-07).
    // → 5 nudges for 5 customers; 1 touched within 7 days (A); 1 churned (B).
    //   W23 (06-01…06-07): A B J = 3, 1 touched, 1 churned. W24: H C = 2.
    expect(byId["quiet-10"]).toMatchObject({ fired: 5, customers: 5, touchedWithin7Days: 1, churned: 1, heldOut: 0 });
    expect(byId["quiet-10"]?.weeks).toEqual([
      { week: "2026-W23", fired: 3, touchedWithin7Days: 1, churned: 1 },
      { week: "2026-W24", fired: 2, touchedWithin7Days: 0, churned: 0 },
    ]);
    expect(byId["quiet-10"]?.sample.map((n) => [n.date, n.customerId, n.touchedWithin7Days, n.churned])).toEqual([
      ["2026-06-01", "A", true, false],
      ["2026-06-01", "B", false, true],
      ["2026-06-01", "J", false, false],
      ["2026-06-10", "H", false, false],
      ["2026-06-13", "C", false, false],
    ]);

    // nps-low (latest NPS ≤ 6, cooldown 5):
    //   D fires 06-01; touched 06-03 15:00 → resolved, cooldown until 06-08 15:00, so the
    //     06-03…06-07 sweeps are quiet and it fires again 06-08; touched 06-12 → resolved
    //     (cooldown to 06-17). Both D nudges were followed by a touch within 7 days.
    //   E fires 06-01; NPS 9 on 06-09 → expires (no cooldown after expiry); NPS 3 on
    //     06-11 → fires again 06-11. Never touched.
    // → 4 nudges for 2 customers, 2 touched. W23: D E (1 touched); W24: D E (1 touched).
    expect(byId["nps-low"]).toMatchObject({ fired: 4, customers: 2, touchedWithin7Days: 2, churned: 0 });
    expect(byId["nps-low"]?.weeks).toEqual([
      { week: "2026-W23", fired: 2, touchedWithin7Days: 1, churned: 0 },
      { week: "2026-W24", fired: 2, touchedWithin7Days: 1, churned: 0 },
    ]);
    expect(byId["nps-low"]?.sample.map((n) => [n.date, n.customerId])).toEqual([
      ["2026-06-01", "D"],
      ["2026-06-01", "E"],
      ["2026-06-08", "D"],
      ["2026-06-11", "E"],
    ]);

    // buyer (≥ 3 purchases in 90 days, not loyal): F's third purchase is 06-04 → fires
    // 06-04; touched 06-06 → resolved, cooldown 30 days. G is loyal.
    expect(byId.buyer).toMatchObject({
      fired: 1,
      customers: 1,
      touchedWithin7Days: 1,
      churned: 0,
      weeks: [{ week: "2026-W23", fired: 1, touchedWithin7Days: 1, churned: 0 }],
    });

    // 5 + 4 + 1 nudges; customers A B C D E F H J; touched A D D F.
    expect(report.totals).toEqual({ fired: 10, customers: 8, touchedWithin7Days: 4, churned: 1, heldOut: 0 });
  });

  it("starts with no live nudges: replaying only 06-14 nudges every customer matching that day", async () => {
    // Replaying only 06-14: live nudges from before the window are unknown, so every
    // match is new. quiet-10: C (11 days), H (44), J (164); A is 9 days, I 7.
    // nps-low: D (NPS 4), E (3). buyer: F.
    const report = await backtestRuleSet(store, ruleFile(ACTIVE_RULES), { calendar: UTC, now: NOW, days: 1 });
    expect(report.rules.map((r) => [r.ruleId, r.sample.map((n) => n.customerId)])).toEqual([
      ["quiet-10", ["C", "H", "J"]],
      ["nps-low", ["D", "E"]],
      ["buyer", ["F"]],
    ]);
  });

  it("writes nothing", async () => {
    const before = await footprint();
    await backtestRuleSet(store, ruleFile(ACTIVE_RULES), { calendar: UTC, now: NOW, days: 30 });
    expect(await footprint()).toEqual(before);
  });

  it("refuses a day count outside 1…365 with a user error", async () => {
    for (const days of [0, -1, 366, 10_000, 1.5]) {
      await expect(backtestRuleSet(store, ruleFile(ACTIVE_RULES), { calendar: UTC, now: NOW, days })).rejects.toThrow(
        /--days must be a whole number from 1 to 365/,
      );
    }
  });

  it("reports progress once per day", async () => {
    const seen: Array<[number, number]> = [];
    await backtestRuleSet(store, ruleFile(ACTIVE_RULES), { calendar: UTC, now: NOW, days: 3, onProgress: (done, total) => seen.push([done, total]) });
    expect(seen).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });
});

describe("isoWeek", () => {
  it("numbers weeks as ISO 8601 does, across year ends", () => {
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
    expect(isoWeek(day("2026-06-01"))).toBe("2026-W23");
    expect(isoWeek(day("2026-06-14"))).toBe("2026-W24");
    expect(isoWeek(day("2026-01-01"))).toBe("2026-W01");
    expect(isoWeek(day("2027-01-01"))).toBe("2026-W53");
    expect(isoWeek(day("2024-12-30"))).toBe("2025-W01");
  });
});
