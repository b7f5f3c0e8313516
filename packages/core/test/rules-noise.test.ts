import { afterEach, describe, expect, it } from "vitest";
import type { Store } from "@keepwarm/store";
import { DAY_MS } from "@keepwarm/store";
import { computeStats, NOISE_THRESHOLDS, noiseStats } from "../src/index";
import { ago, customer, freshStatsStore, nudge, PERIOD, touch } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

let serial = 0;
/** A customer of its own for each nudge, so every figure below is read off one line. */
async function fresh(store: Store): Promise<number> {
  serial++;
  return customer(store, { id: `N${serial}`, segment: "smb", since: ago(400), owner: "U0REPA" });
}

/**
 * Rule "noisy", 20 settled nudges created 40 days ago (+ 1 open, not settled):
 *   6 dismissed: "Already in touch" ×3 (spelled three ways), "wrong owner" ×2, no reason ×1
 *   3 expired with no touch while live; 1 expired though the customer was touched while it was live
 *   4 resolved by a touch 10 days later (the next routine touch); 3 resolved 2 days later,
 *     each of those 3 customers also touched 3 days before the nudge
 *   2 snoozed twice, then resolved 2 days later; 1 snoozed once, then resolved 2 days later
 * Noisy = 6 + 3 + 4 + 2 = 15 of 20 = 75% ≥ 50%: flagged. Already touched = 3 of 20 = 15%.
 */
async function noisyRule(store: Store): Promise<void> {
  const at = ago(40);
  const ruleId = "noisy";
  for (const note of ["Already in touch", " already in touch", "ALREADY IN TOUCH ", "wrong owner", "wrong owner", null]) {
    await nudge(store, { ruleId, customerId: await fresh(store), createdAt: at, status: "dismissed", deliveredAt: at, closedAt: at + DAY_MS, closeNote: note });
  }
  for (let i = 0; i < 3; i++) await nudge(store, { ruleId, customerId: await fresh(store), createdAt: at, status: "expired", closedAt: at + 5 * DAY_MS });
  const touchedWhileLive = await fresh(store);
  await touch(store, touchedWhileLive, at + 2 * DAY_MS);
  await nudge(store, { ruleId, customerId: touchedWhileLive, createdAt: at, status: "expired", closedAt: at + 5 * DAY_MS });
  for (let i = 0; i < 4; i++) {
    const c = await fresh(store);
    await nudge(store, {
      ruleId,
      customerId: c,
      createdAt: at,
      status: "resolved",
      touchId: await touch(store, c, at + 10 * DAY_MS),
      closedAt: at + 10 * DAY_MS,
    });
  }
  for (let i = 0; i < 3; i++) {
    const c = await fresh(store);
    await touch(store, c, at - 3 * DAY_MS);
    await nudge(store, {
      ruleId,
      customerId: c,
      createdAt: at,
      status: "resolved",
      touchId: await touch(store, c, at + 2 * DAY_MS),
      closedAt: at + 2 * DAY_MS,
    });
  }
  for (const snoozes of [2, 2, 1]) {
    const c = await fresh(store);
    await nudge(store, {
      ruleId,
      customerId: c,
      createdAt: at,
      status: "resolved",
      snoozedBy: "U0REPA",
      snoozeCount: snoozes,
      touchId: await touch(store, c, at + 2 * DAY_MS),
    });
  }
  await nudge(store, {
    ruleId,
    customerId: await fresh(store),
    createdAt: ago(2),
    deliveredAt: ago(2),
    snoozeCount: 3,
    snoozedBy: "U0REPA",
    status: "snoozed",
  });
}

describe("noise report on a hand-built history", () => {
  it("counts dismissals with their top reasons, repeated snoozes, untouched expiries and routine-touch resolutions, and flags a mostly-noise rule", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    await noisyRule(fixture.store);
    const report = await noiseStats(fixture.store, PERIOD);
    const [rule] = report.rules;
    expect(rule).toMatchObject({
      ruleId: "noisy",
      nudged: 21,
      settled: 20,
      stillOpen: 1,
      counts: { dismissed: 6, snoozedRepeatedly: 2, expiredUntouched: 3, resolvedByRoutineTouch: 4, alreadyTouched: 3, noisy: 15 },
      topDismissReasons: [
        { reason: "already in touch", n: 3 },
        { reason: "wrong owner", n: 2 },
        { reason: null, n: 1 },
      ],
      holdout: null,
      flagged: true,
    });
    expect(rule?.shares.noisy).toBe(0.75);
    expect(rule?.shares.alreadyTouched).toBe(0.15);
    expect(rule?.evidence).toEqual([
      '75% of 20 settled nudges were noise: 30% dismissed ("already in touch" 3, "wrong owner" 2, "no reason" 1); 10% snoozed more than once; 15% expired untouched; 20% resolved only by a touch more than 7 days later',
    ]);
    expect(report.thresholds).toMatchObject({ minSettled: 20, noiseShare: 0.5, alreadyTouchedShare: 0.5, routineAfterDays: 7, alreadyTouchedDays: 7 });
  });

  it("flags a rule whose customers were mostly touched just before, and one whose holdout shows no uplift; not a rule with too few settled nudges", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    // "echo": 20 nudges resolved 1 day later; 12 of the customers were touched 2 days before → 60% already touched.
    for (let i = 0; i < 20; i++) {
      const c = await fresh(store);
      if (i < 12) await touch(store, c, ago(32));
      await nudge(store, { ruleId: "echo", customerId: c, createdAt: ago(30), status: "resolved", touchId: await touch(store, c, ago(29)) });
    }
    // "flat": 30 nudged and 30 held out, half of each touched 3 days later: no uplift (0 points, p = 1).
    for (let i = 0; i < 60; i++) {
      const c = await fresh(store);
      const heldOut = i >= 30;
      const touched = i % 2 === 0;
      const t = touched ? await touch(store, c, ago(47)) : null;
      await nudge(store, {
        ruleId: "flat",
        customerId: c,
        createdAt: ago(50),
        heldOut,
        status: heldOut ? "open" : touched ? "resolved" : "expired",
        touchId: heldOut ? null : t,
        closedAt: ago(45),
      });
    }
    // "young": 5 nudges, all dismissed — 100% noise, but below the 20 settled nudges a share needs.
    for (let i = 0; i < 5; i++) await nudge(store, { ruleId: "young", customerId: await fresh(store), createdAt: ago(10), status: "dismissed" });

    const { noise } = await computeStats(store, PERIOD);
    const byId = new Map(noise.rules.map((r) => [r.ruleId, r]));
    expect(byId.get("echo")).toMatchObject({ flagged: true, counts: { alreadyTouched: 12, noisy: 0 } });
    expect(byId.get("echo")?.evidence).toEqual(["60% of 20 settled nudges were about customers touched in the 7 days before"]);
    // flat's nudged: 15 resolved 3 days later (timely), 15 expired untouched → 50% noise; the holdout adds its own line.
    const flat = byId.get("flat");
    expect(flat?.holdout).toMatchObject({ uplift: 0, p: 1, enoughData: true });
    expect(flat?.evidence).toHaveLength(2);
    expect(flat?.evidence[1]).toBe(
      "its holdout shows no uplift: touched within 7 days: no clear difference yet: 50% of nudged vs 50% of held out (+0 points, 95% CI −24 to +24; p = 1.000)",
    );
    expect(byId.get("young")).toMatchObject({ settled: 5, flagged: false, evidence: [] });
    expect(byId.get("young")?.shares.noisy).toBe(1);
    expect(NOISE_THRESHOLDS.minSettled).toBe(20);
  });
});
