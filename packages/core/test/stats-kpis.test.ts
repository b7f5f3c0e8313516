import { afterEach, describe, expect, it } from "vitest";
import { Calendar } from "@keepwarm/rules";
import { countQuietCustomers, DAY_MS } from "@keepwarm/store";
import { computeStats, funnelStats, loyaltyStats, npsStats, quietBefore, repActivityStats, retentionStats, touchCadenceStats } from "../src/index";
import { ago, customer, freshStatsStore, NOW, nps, PERIOD, seedBook, touch } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function book() {
  const fixture = await freshStatsStore();
  close = fixture.close;
  const ids = await seedBook(fixture.store);
  return { store: fixture.store, ids };
}

describe("KPIs against the hand-computed book (period NOW−90d … NOW)", () => {
  it("retention counts customers at the period start and their churn, by segment", async () => {
    const { store } = await book();
    // enterprise: A and B were customers at the start; B churned 10 days ago → 1 of 2, 50%.
    // smb: C churned 200 days ago (before the start: not counted); D started 30 days ago (new);
    //      E was there and stayed → 0 of 1 churned, 100%, 1 new.
    // (none): F started 100 days ago, before the start → 1 customer, 0 churned.
    // total: S = 4 at start, E = 4 at the end (A, D, E, F), N = 1 new → (4 − 1) ÷ 4 = 75% retention; 1 churned = 25%.
    const r = await retentionStats(store, PERIOD);
    expect(r.bySegment).toEqual([
      { segment: "(none)", atStart: 1, atEnd: 1, churned: 0, new: 0, retentionRate: 1, churnRate: 0 },
      { segment: "enterprise", atStart: 2, atEnd: 1, churned: 1, new: 0, retentionRate: 0.5, churnRate: 0.5 },
      { segment: "smb", atStart: 1, atEnd: 2, churned: 0, new: 1, retentionRate: 1, churnRate: 0 },
    ]);
    expect(r.total).toEqual({ segment: "all", atStart: 4, atEnd: 4, churned: 1, new: 1, retentionRate: 0.75, churnRate: 0.25 });
    // --segment enterprise: only A and B.
    expect((await retentionStats(store, { ...PERIOD, segment: "enterprise" })).total).toMatchObject({ atStart: 2, churned: 1, retentionRate: 0.5 });
  });

  it("NPS now takes each active customer's latest answer of the last 90 days; by month, the latest per customer and month", async () => {
    const { store } = await book();
    // now: A → 10 (the 3 is 100 days old), B churned (excluded), E → 6 (latest of 9, 4, 6), F → 9, D none.
    //      promoters A, F; detractor E → (2 − 1) / 3 = +33.3.
    // by month (UTC): April none; May: E's latest in May is 4 (05-03, after the 9 on 05-01), F 9 → (1 − 1)/2 = 0;
    //      June: A 10, B 2 (B was still a customer then), E 6 → (1 − 2)/3 = −33.3.
    const n = await npsStats(store, PERIOD);
    expect(n.now).toEqual({ nps: 33.3, responses: 3, promoters: 2, passives: 0, detractors: 1 });
    expect(n.byMonth).toEqual([
      { month: "2026-04", nps: null, responses: 0, promoters: 0, passives: 0, detractors: 0 },
      { month: "2026-05", nps: 0, responses: 2, promoters: 1, passives: 0, detractors: 1 },
      { month: "2026-06", nps: -33.3, responses: 3, promoters: 1, passives: 0, detractors: 2 },
    ]);
  });

  it("days since last touch falls in buckets and customers 30+ days quiet are counted", async () => {
    const { store } = await book();
    // Active at NOW: A (3 days), D (never touched, started 30 days ago → 30), E (45), F (10). B and C churned.
    const c = await touchCadenceStats(store, PERIOD);
    expect(c.customers).toBe(4);
    expect(c.buckets).toEqual([
      { label: "0–6", count: 1 },
      { label: "7–13", count: 1 },
      { label: "14–29", count: 0 },
      { label: "30–59", count: 2 },
      { label: "60–89", count: 0 },
      { label: "90+", count: 0 },
    ]);
    expect(c.neverTouched).toBe(1);
    expect(c.quiet).toBe(2);
  });

  it("touches per rep per week divide each rep's touches by the period's calendar days ÷ 7", async () => {
    const { store } = await book();
    // In the period: U0REPA 2 (A at −3 = Sat 06-27 → week of Mon 06-22; A at −27 = Wed 06-03 → week of 06-01),
    // U0REPB 2 (B −50 = 05-11, a Monday; E −45 = 05-16 → week of 05-11), unrecorded 1 (F −10 = 06-20 → week of 06-15).
    // E's touch at −100 is before the period. The period, noon 2026-04-01 to noon 2026-06-30 (UTC), touches
    // 91 calendar days: 13 weeks. 2 / 13 = 0.15 → 0.2; 1 / 13 = 0.08 → 0.1.
    const a = await repActivityStats(store, PERIOD);
    expect(a.weeksInPeriod).toBe(13);
    expect(a.reps).toEqual([
      { rep: "U0REPA", name: "U0REPA", touches: 2, perWeek: 0.2, weeks: { "2026-06-01": 1, "2026-06-22": 1 } },
      { rep: "U0REPB", name: "U0REPB", touches: 2, perWeek: 0.2, weeks: { "2026-05-11": 2 } },
      { rep: "(not recorded)", name: "(not recorded)", touches: 1, perWeek: 0.1, weeks: { "2026-06-15": 1 } },
    ]);
  });

  it("loyalty enrollment counts active customers with 5+ purchases in 90 days", async () => {
    const { store } = await book();
    // A: 5 in 90 days, member. E: 5 in 90 days (the one 95 days ago does not count), not a member.
    // F: 4 → not frequent. B: 7, but churned. → 1 of 2 enrolled.
    expect(await loyaltyStats(store, PERIOD)).toEqual({ frequentBuyers: 2, enrolled: 1, enrollmentRate: 0.5 });
  });

  it("the nudge funnel per rule counts stages of nudged (not held-out) nudges and the median days to the touch", async () => {
    const { store } = await book();
    // r1 in the period: A resolved (created −30, touch −27: 3 days), E resolved after a snooze (−50 → −45: 5 days),
    //   F dismissed, D held out; A's nudge from 200 days ago is outside. Median of 3 and 5 = 4.
    // r2: D open, delivered and escalated; E expired, never delivered.
    // Noise, of settled nudges: r1 has 3 (A, E, F), F's dismissal the one noisy; nobody was touched in the 7 days before.
    //   r2 has 1 (E), expired with no touch after it (closed at creation), and E was touched 5 days before it (−45).
    expect(await funnelStats(store, PERIOD)).toEqual([
      {
        ruleId: "r1",
        created: 4,
        heldOut: 1,
        nudged: 3,
        delivered: 3,
        resolvedByTouch: 2,
        snoozed: 1,
        dismissed: 1,
        expired: 0,
        stillOpen: 0,
        escalated: 0,
        settled: 3,
        snoozedRepeatedly: 0,
        expiredUntouched: 0,
        resolvedByRoutineTouch: 0,
        alreadyTouched: 0,
        noisy: 1,
        medianDaysToTouch: 4,
      },
      {
        ruleId: "r2",
        created: 2,
        heldOut: 0,
        nudged: 2,
        delivered: 1,
        resolvedByTouch: 0,
        snoozed: 0,
        dismissed: 0,
        expired: 1,
        stillOpen: 1,
        escalated: 1,
        settled: 1,
        snoozedRepeatedly: 0,
        expiredUntouched: 1,
        resolvedByRoutineTouch: 0,
        alreadyTouched: 1,
        noisy: 1,
        medianDaysToTouch: null,
      },
    ]);
  });

  it("a rule with too few held-out nudges says so instead of claiming an effect", async () => {
    const { store } = await book();
    const [r1] = (await computeStats(store, PERIOD)).holdouts;
    // r1: 3 nudged (all ≥ 7 days old except none: −30, −50, −12) and 1 held out (5 days old: not mature for 7 days).
    expect(r1?.ruleId).toBe("r1");
    expect(r1?.nudges).toEqual({ nudged: 3, heldOut: 1 });
    expect(r1?.touched7.nudged).toMatchObject({ n: 3, yes: 3 });
    expect(r1?.touched7.heldOut).toMatchObject({ n: 0, yes: 0 });
    expect(r1?.touched7.enoughData).toBe(false);
    expect(r1?.touched7.test).toBeNull();
    expect(r1?.touched7.verdict).toBe("touched within 7 days: not enough data yet: needs 30 in each group, has 3 nudged and 0 held out");
  });
});

describe("KPIs on edge cases", () => {
  it("an empty store gives zeros and nulls, never NaN or an error", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const s = await computeStats(fixture.store, PERIOD);
    expect(s.retention.total).toEqual({ segment: "all", atStart: 0, atEnd: 0, churned: 0, new: 0, retentionRate: null, churnRate: null });
    expect(s.retention.bySegment).toEqual([]);
    expect(s.nps.now).toEqual({ nps: null, responses: 0, promoters: 0, passives: 0, detractors: 0 });
    expect(s.nps.byMonth.map((m) => m.nps)).toEqual([null, null, null]);
    expect(s.touchCadence).toMatchObject({ customers: 0, quiet: 0, neverTouched: 0 });
    expect(s.repActivity.reps).toEqual([]);
    expect(s.loyalty).toEqual({ frequentBuyers: 0, enrolled: 0, enrollmentRate: null });
    expect(s.funnel).toEqual([]);
    expect(s.holdouts).toEqual([]);
    expect(JSON.stringify(s)).not.toMatch(/NaN|Infinity/);
  });

  it("a single customer is counted in every KPI it belongs to", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const id = await customer(fixture.store, { id: "solo", segment: "smb", since: ago(365), owner: "U0SOLO" });
    await touch(fixture.store, id, ago(40), "U0SOLO");
    await nps(fixture.store, id, 10, ago(7));
    const s = await computeStats(fixture.store, PERIOD);
    // 1 customer at the start, none churned; NPS one promoter = +100; last touch 40 days ago → quiet;
    // 1 touch / 12.857 weeks = 0.08 → 0.1 per week.
    expect(s.retention.total).toMatchObject({ atStart: 1, churned: 0, retentionRate: 1 });
    expect(s.nps.now).toMatchObject({ nps: 100, responses: 1, promoters: 1 });
    expect(s.nps.byMonth.find((m) => m.month === "2026-06")?.nps).toBe(100);
    expect(s.touchCadence).toMatchObject({ customers: 1, quiet: 1 });
    expect(s.touchCadence.buckets.find((b) => b.label === "30–59")?.count).toBe(1);
    expect(s.repActivity.reps).toEqual([{ rep: "U0SOLO", name: "U0SOLO", touches: 1, perWeek: 0.1, weeks: { "2026-05-18": 1 } }]);
    expect(s.until).toBe(NOW);
  });

  it("counts quiet customers by the store's one definition, which agrees with the 30+ day buckets in any zone", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const paris = new Calendar("Europe/Paris");
    const at = Date.parse("2026-07-15T07:00:00Z"); // 09:00 in Paris
    const cutoff = quietBefore(paris, at); // 2026-06-16 00:00 in Paris = 2026-06-15T22:00Z
    const edge = [cutoff - 1, cutoff, Date.parse("2026-06-15T23:00:00Z"), cutoff - 86_400_000, cutoff + 86_400_000];
    for (const [i, touchedAt] of edge.entries()) await touch(fixture.store, await customer(fixture.store, { id: `T${i}`, since: ago(400) }), touchedAt);
    await customer(fixture.store, { id: "N30", since: cutoff - 1 });
    await customer(fixture.store, { id: "N29", since: cutoff });
    const c = await touchCadenceStats(fixture.store, { since: at - 90 * DAY_MS, until: at, calendar: paris });
    const thirtyPlus = c.buckets.filter((b) => ["30–59", "60–89", "90+"].includes(b.label)).reduce((sum, b) => sum + b.count, 0);
    // Quiet: T0 (23:59:59.999 on 06-15 in Paris), T3 (a day earlier), N30. Not: T1 (midnight 06-16), T2 (01:00 on 06-16 in Paris), T4, N29.
    expect(c.quiet).toBe(3);
    expect(thirtyPlus).toBe(3);
    expect(await countQuietCustomers(fixture.store.db, { quietBefore: cutoff, at })).toBe(3);
  });
});
