import { Calendar } from "@keepwarm/rules";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { computeStats, DEFAULT_STATS_DAYS, defaultStatsPeriod, importCsv, periodFromDates, retentionStats, UserError } from "../src/index";
import { freshIngestStore, type IngestFixture } from "./ingest-fixtures";

/*
 * The textbook KPIs against hand computations, with the dates as a customer CSV gives
 * them: bare dates, read as calendar days in KEEPWARM_TZ (Los Angeles here, where UTC
 * midnight is the evening before).
 */

const LA = new Calendar("America/Los_Angeles");
const NOW = Date.parse("2026-07-01T19:00:00Z"); // noon PDT, the day after the period

let fx: IngestFixture;
beforeEach(async () => {
  fx = await freshIngestStore();
});
afterEach(() => fx.close());

async function importBook(): Promise<void> {
  const file = fx.csv("customers.csv", [
    "id,name,segment,since,churned_at",
    "A,Stays,smb,2025-01-01,", // S, E
    "B,Churns on the first day,smb,2025-01-01,2026-04-01", // S, lost
    "C,Churned the day before,smb,2025-01-01,2026-03-31", // neither S nor lost
    "D,Starts on the first day,smb,2026-04-01,", // N, E
    "E,New and lost,enterprise,2026-05-10,2026-06-01", // N, lost
    "F,Churns on the last day,enterprise,2025-06-01,2026-06-30", // S, lost
    "G,Churns the day after,enterprise,2025-06-01,2026-07-01", // S, E
    "H,Starts the day after,enterprise,2026-07-01,", // nothing in the period
  ]);
  expect(await importCsv(fx.store, "customers", file, { now: NOW, calendar: LA })).toMatchObject({ committed: true, inserted: 8 });
}

describe("customer retention rate = (customers at end − new customers) ÷ customers at start", () => {
  it("Q2 2026 in Los Angeles, by hand: S = 4 (A, B, F, G), E = 3 (A, D, G), N = 2 (D, E) → (3 − 2) ÷ 4 = 25%; churn 3 ÷ 4", async () => {
    await importBook();
    const period = { ...periodFromDates({ since: "2026-04-01", until: "2026-06-30" }, NOW, LA), calendar: LA };
    const { total, bySegment } = await retentionStats(fx.store, period);
    expect(total).toEqual({ segment: "all", atStart: 4, atEnd: 3, new: 2, churned: 3, retentionRate: 0.25, churnRate: 0.75 });
    // smb: S = A, B; E = A, D; N = D → (2 − 1) ÷ 2. enterprise: S = F, G; E = G; N = E → (1 − 1) ÷ 2.
    expect(bySegment).toEqual([
      { segment: "enterprise", atStart: 2, atEnd: 1, new: 1, churned: 2, retentionRate: 0, churnRate: 1 },
      { segment: "smb", atStart: 2, atEnd: 2, new: 1, churned: 1, retentionRate: 0.5, churnRate: 0.5 },
    ]);
  });

  it("a churn dated on the first day of a period belongs to that period, and one dated the day before to the one before", async () => {
    await importBook();
    const april = { ...periodFromDates({ since: "2026-04-01", until: "2026-04-30" }, NOW, LA), calendar: LA };
    const march = { ...periodFromDates({ since: "2026-03-01", until: "2026-03-31" }, NOW, LA), calendar: LA };
    // April: S = A, B, F, G (C left on 03-31); lost = B; N = D; E = A, D, F, G → (4 − 1) ÷ 4.
    expect((await retentionStats(fx.store, april)).total).toMatchObject({ atStart: 4, atEnd: 4, new: 1, churned: 1, retentionRate: 0.75 });
    // March: S = A, B, C, F, G; lost = C; nobody new; E = A, B, F, G → (4 − 0) ÷ 5.
    expect((await retentionStats(fx.store, march)).total).toMatchObject({ atStart: 5, atEnd: 4, new: 0, churned: 1, retentionRate: 0.8 });
  });
});

describe("the period", () => {
  it("stats, report and Slack share one default: the last 90 calendar days, today included, up to now", () => {
    const period = defaultStatsPeriod(NOW, LA);
    // Today in LA is 2026-07-01; 89 days before it is 2026-04-03, whose local midnight is 07:00 UTC.
    expect(DEFAULT_STATS_DAYS).toBe(90);
    expect(period.since).toBe(Date.parse("2026-04-03T07:00:00Z") - 1);
    expect(period.until).toBe(NOW);
    expect(periodFromDates({}, NOW, LA)).toEqual({ since: period.since, until: period.until });
  });

  it("bare dates are whole local days, both included; a date-time is that instant; a bad date is one clear error", async () => {
    await importBook();
    const q2 = periodFromDates({ since: "2026-04-01", until: "2026-06-30" }, NOW, LA);
    expect(q2).toEqual({ since: Date.parse("2026-04-01T07:00:00Z") - 1, until: Date.parse("2026-07-01T07:00:00Z") - 1 });
    const stats = await computeStats(fx.store, { ...q2, calendar: LA });
    expect([stats.from, stats.to, stats.days]).toEqual(["2026-04-01", "2026-06-30", 91]);
    expect(periodFromDates({ since: "2026-04-01T00:00:00Z", until: "2026-04-02T00:00:00Z" }, NOW, LA)).toEqual({
      since: Date.parse("2026-04-01T00:00:00Z"),
      until: Date.parse("2026-04-02T00:00:00Z"),
    });
    expect(() => periodFromDates({ since: "2026-02-30" }, NOW, LA)).toThrow(UserError);
    expect(() => periodFromDates({ since: "2026-05-01", until: "2026-04-01" }, NOW, LA)).toThrow("--since must be before --until");
  });
});
