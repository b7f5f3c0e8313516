import { type RuleFile, validateRuleFile } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seededRandom } from "../src/demo-data";
import { calibrateHealth } from "../src/health-calibration";
import { applyRuleSet, buildReportData, buildReportHtml, renderReportHtml } from "../src/index";
import { aucOf, ClusteredScores } from "../src/stats/auc";
import { addCustomer, addTouch, daysBefore, type Fixture, freshStore, NOW, UTC } from "./sweep-fixtures";

describe("ROC AUC (low score predicts the event)", () => {
  it("matches a hand computation, ties counting one half", () => {
    // Scores 0, 50, 100. Events at 0, 0, 50; others at 50, 100, 100. Of the 9 pairs, each event
    // at 0 is below all 3 others (6), the event at 50 ties one (0.5) and is below two (2): 8.5 / 9.
    expect(aucOf([2, 1, 0], [0, 1, 2])).toBeCloseTo(8.5 / 9, 12);
    expect(aucOf([1, 0], [0, 1])).toBe(1);
    expect(aucOf([0, 1], [1, 0])).toBe(0);
    expect(aucOf([1], [1])).toBe(0.5);
    expect(aucOf([0, 0], [1, 1])).toBeNull();
  });

  it("a perfect separation is 1 with a degenerate interval; random scores are ≈ 0.5 with an interval around it", () => {
    const perfect = new ClusteredScores();
    for (let c = 0; c < 40; c++) {
      perfect.startCluster();
      for (let s = 0; s < 5; s++) perfect.add(c < 20 ? 10 : 90, c < 20);
    }
    expect(perfect.summary({ resamples: 100, seed: 7 })).toEqual({ auc: 1, interval: [1, 1], observations: 200, events: 100, clusters: 40 });

    const random = seededRandom(12345);
    const noise = new ClusteredScores();
    for (let c = 0; c < 2_000; c++) {
      noise.startCluster();
      const churns = random() < 0.2;
      for (let s = 0; s < 4; s++) noise.add(Math.floor(random() * 101), churns);
    }
    const summary = noise.summary({ resamples: 200, seed: 3 });
    expect(Math.abs((summary.auc as number) - 0.5)).toBeLessThan(0.03);
    const [lo, hi] = summary.interval as [number, number];
    expect(lo).toBeLessThan(0.5);
    expect(hi).toBeGreaterThan(0.5);
    // Seeded: the same data and seed give the same interval.
    const again = new ClusteredScores();
    const replay = seededRandom(12345);
    for (let c = 0; c < 2_000; c++) {
      again.startCluster();
      const churns = replay() < 0.2;
      for (let s = 0; s < 4; s++) again.add(Math.floor(replay() * 101), churns);
    }
    expect(again.summary({ resamples: 200, seed: 3 })).toEqual(summary);
  });
});

const HEALTH = {
  default: {
    components: [
      { name: "touch", fact: "daysSinceLastTouch", weight: 2, bands: [{ max: 14, score: 100 }, { score: 0 }] },
      // A component that carries no signal: every customer scores the same on it.
      { name: "customer age", fact: "daysAsCustomer", weight: 1, bands: [{ min: 0, score: 50 }] },
    ],
  },
};

function ruleFile(): RuleFile {
  const result = validateRuleFile({ health: HEALTH, rules: [] });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.ruleFile;
}

/** Ten customers nobody touches, who churn 60 days ago; ten touched every 3 days who stay. */
async function perfectBook(store: Store): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const id = await addCustomer(store, { id: `LEFT-${i}`, since: daysBefore(400) });
    await store.db
      .updateTable("customers")
      .set({ churned_at: daysBefore(60) })
      .where("id", "=", id)
      .execute();
  }
  for (let i = 0; i < 10; i++) {
    const id = await addCustomer(store, { id: `STAYED-${i}`, since: daysBefore(400) });
    for (let d = 200; d >= 0; d -= 3) await addTouch(store, id, daysBefore(d));
  }
}

let fixture: Fixture;
beforeEach(async () => {
  fixture = await freshStore();
});
afterEach(() => fixture.close());

describe("the report's calibration chart", () => {
  it("keepwarm report --calibrate draws churn per grade with its intervals, the AUC and the components; without it, says how to get it", async () => {
    const { store } = fixture;
    await perfectBook(store);
    await applyRuleSet(store, JSON.stringify({ health: HEALTH, rules: [] }), { author: "test", source: "test", now: daysBefore(500) });
    const period = { since: daysBefore(90), until: NOW, calendar: UTC };
    const data = await buildReportData(store, period, NOW, { calibrateDays: 120 });
    // The same figures as keepwarm health calibrate on this book (above): 50 snapshots in A, none churned; 50 in F, all churned.
    expect(data.calibration?.grades.map((g) => [g.grade, g.observations, g.churned])).toEqual([
      ["A", 50, 0],
      ["B", 0, 0],
      ["C", 0, 0],
      ["D", 0, 0],
      ["F", 50, 50],
    ]);
    const html = renderReportHtml(data);
    const chart = html.match(/<svg [^>]*aria-label="churn within 90 days per health grade"[\s\S]*?<\/svg>/)?.[0] ?? "";
    // One bar per grade with a score: A at 0 % and F at 100 %, each with its n; grades without snapshots say n=0.
    expect(chart.match(/>grade [ABCDF]</g)).toEqual([">grade A<", ">grade B<", ">grade C<", ">grade D<", ">grade F<"]);
    expect(chart.match(/font-weight="600">\d+%</g)).toEqual(['font-weight="600">0%<', 'font-weight="600">100%<']);
    expect(chart.match(/n=\d+/g)).toEqual(["n=50", "n=0", "n=0", "n=0", "n=50"]);
    expect(html).toContain("ROC AUC of the score 1.00 (95 % CI 1.00–1.00): low scores do go with churn");
    expect(html).toContain("<td>touch</td><td>daysSinceLastTouch</td><td>1.00 (95 % CI 1.00–1.00)</td>");

    const plain = await buildReportHtml(store, period, NOW);
    expect(plain).not.toContain("per health grade</");
    expect(plain).toContain("<code>keepwarm report --calibrate</code> adds the check");
  });
});

describe("keepwarm health calibrate", () => {
  it("on a book where the score separates churners perfectly: AUC 1, churn 100 % in F and 0 % in A", async () => {
    const { store } = fixture;
    await perfectBook(store);
    // 120 days: the scored days are 91 … 120 days ago, weekly: 91, 98, 105, 112, 119.
    const report = await calibrateHealth(store, ruleFile(), { calendar: UTC, now: NOW, days: 120, resamples: 50 });
    expect(report).toMatchObject({ snapshots: 5, from: "2026-02-16", to: "2026-03-16", observations: 100, customers: 20, churned: 50, horizonDays: 90 });
    expect(report.score).toMatchObject({ auc: 1, interval: [1, 1], observations: 100, events: 50, clusters: 20 });
    const byGrade = Object.fromEntries(report.grades.map((g) => [g.grade, [g.observations, g.churned, g.churnRate]]));
    // Stayers: (2×100 + 1×50) ÷ 3 = 83 → A; churners: (2×0 + 1×50) ÷ 3 = 17 → F.
    expect(byGrade).toEqual({ A: [50, 0, 0], B: [0, 0, null], C: [0, 0, null], D: [0, 0, null], F: [50, 50, 1] });
    expect(report.components.map((c) => [c.name, c.auc])).toEqual([
      ["touch", 1],
      ["customer age", 0.5],
    ]);
  });

  it("on a book where churn is independent of the score: AUC ≈ 0.5 and the interval holds 0.5", async () => {
    const { store } = fixture;
    const random = seededRandom(99);
    // One snapshot (91 days ago), so nothing but chance links the score to churn.
    const rows = Array.from({ length: 800 }, (_, i) => ({
      external_id: `R-${i}`,
      name: `R ${i}`,
      since_at: daysBefore(400),
      churned_at: random() < 0.3 ? daysBefore(Math.floor(random() * 85)) : null,
      attributes: "{}",
      loyalty_member: 0,
      created_at: daysBefore(400),
      updated_at: daysBefore(400),
    }));
    const ids = (await store.db.insertInto("customers").values(rows).returning("id").execute()).map((r) => Number(r.id));
    const touches = ids.flatMap((id) =>
      Array.from({ length: 3 }, () => {
        const at = daysBefore(92 + Math.floor(random() * 40));
        return { customer_id: id, kind: "call", occurred_at: at, logged_at: at, source: "import" };
      }),
    );
    await store.db.insertInto("touchpoints").values(touches).execute();
    const report = await calibrateHealth(store, ruleFile(), { calendar: UTC, now: NOW, days: 100, everyDays: 30, resamples: 200, seed: 5 });
    expect(report).toMatchObject({ snapshots: 1, observations: 800 });
    // Both outcomes and both scores are common, or the test would prove little.
    expect(report.churned).toBeGreaterThan(150);
    expect(report.grades.find((g) => g.grade === "A")?.observations).toBeGreaterThan(150);
    const { auc, interval } = report.score;
    expect(Math.abs((auc as number) - 0.5)).toBeLessThan(0.08);
    expect((interval as [number, number])[0]).toBeLessThan(0.5);
    expect((interval as [number, number])[1]).toBeGreaterThan(0.5);
  });

  it("refuses rules without a health block and a replay too short for the 90-day horizon", async () => {
    const noHealth = validateRuleFile({ rules: [] });
    if (!noHealth.valid) throw new Error("invalid");
    await expect(calibrateHealth(fixture.store, noHealth.ruleFile, { calendar: UTC, now: NOW, days: 365 })).rejects.toThrow('the rules have no "health" block');
    await expect(calibrateHealth(fixture.store, ruleFile(), { calendar: UTC, now: NOW, days: 90 })).rejects.toThrow(
      "--days must be a whole number from 91 to 730",
    );
  });
});
