import { applyRuleSet, logTouch } from "@keepwarm/core";
import { defaultRulesText } from "@keepwarm/rules";
import { DAY_MS } from "@keepwarm/store";
import { postSigned } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, NOW, REP, SECRET, type CustomerSeed, startHarness, sweep, TEAM } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const HOUR = 3_600_000;

async function statsAnswer(h: Harness, text = "stats"): Promise<{ text: string; blocks: string }> {
  const res = await h.command("/keepwarm", text);
  expect(res.status).toBe(200);
  const answer = await h.response(res.responseId);
  expect(answer.response_type).toBe("ephemeral");
  return { text: String(answer.text), blocks: JSON.stringify(answer.blocks ?? null) };
}

/**
 * Hand-computed fixture at NOW (Monday 2026-11-23 10:00 UTC), 90-day period:
 * - Alpha, Bravo, Charlie (enterprise), Delta, Echo started 200 days ago; Foxtrot 10 days ago (new).
 * - Delta churned 10 days ago → retention 4 of 5 = 80.0%, 1 churned, 1 new.
 * - Latest NPS of active customers: Alpha 10, Bravo 3, Charlie 8, Echo 9 (Delta's 9 does not count:
 *   churned) → 2 promoters, 1 passive, 1 detractor → NPS +25.
 * - Sweep 3 days ago: no-contact nudges Alpha, Bravo, Echo; no-contact-enterprise nudges Charlie.
 *   Bravo touched 1 day ago (2.0 days after), Alpha 2 hours ago (2.9 days after) → median 2.5 days.
 * - Touches this week (since Monday 00:00): Alpha's only → 1. Open nudges: Charlie, Echo → 2.
 * - Days since last touch: Alpha 0, Bravo 1, Charlie 40, Echo 200, Foxtrot 10 → quiet 2 of 5.
 */
async function fixture(): Promise<Harness> {
  const harness = await startHarness({
    customers: [
      { id: "C-1", name: "Alpha", quietDays: 200 },
      { id: "C-2", name: "Bravo", quietDays: 200 },
      { id: "C-3", name: "Charlie", segment: "enterprise", quietDays: 200 },
      { id: "C-4", name: "Delta", quietDays: 200 },
      { id: "C-5", name: "Echo", quietDays: 200 },
      { id: "C-6", name: "Foxtrot", quietDays: 10 },
    ],
  });
  const { db } = harness.store;
  await db
    .insertInto("touchpoints")
    .values({ customer_id: 3, kind: "call", occurred_at: NOW - 40 * DAY_MS, logged_at: NOW - 40 * DAY_MS, logged_by: "U0REP", note: null, source: "cli" })
    .execute();
  await db
    .insertInto("nps_responses")
    .values(
      (
        [
          [1, 10, 10],
          [2, 3, 20],
          [3, 8, 5],
          [4, 9, 30],
          [5, 9, 1],
        ] as const
      ).map(([customer, score, daysAgo]) => ({ customer_id: customer, score, responded_at: NOW - daysAgo * DAY_MS, comment: null })),
    )
    .execute();
  await db
    .updateTable("customers")
    .set({ churned_at: NOW - 10 * DAY_MS })
    .where("external_id", "=", "C-4")
    .execute();
  await sweep(harness.store, NOW - 3 * DAY_MS);
  await harness.bot.delivery.runOnce();
  await logTouch(harness.store, { customerId: 2, kind: "call", occurredAt: NOW - DAY_MS, now: NOW, loggedBy: REP, source: "cli" });
  await logTouch(harness.store, { customerId: 1, kind: "email", occurredAt: NOW - 2 * HOUR, now: NOW, loggedBy: REP, source: "cli" });
  return harness;
}

describe("/keepwarm stats", () => {
  it("answers ephemerally with the fixture's KPIs, funnel per rule and holdout status, as Block Kit", async () => {
    h = await fixture();
    const { text, blocks } = await statsAnswer(h);
    const expected = [
      "Quiet customers (30+ days): *2*",
      "Touches this week (since 2026-11-23): *1*",
      "Open nudges: *2*",
      "*Team, last 90 days* (2026-08-26 → 2026-11-23)",
      "NPS now: *+25* (4 answers in the last 90 days: 2 promoters, 1 passives, 1 detractors)",
      "Retention: *80.0%* ((5 at the end − 1 new) ÷ 5 at the start; 1 churned)",
      "Quiet customers (30+ days): *2* of 5",
      "`no-contact`: 3 nudged → 3 delivered → 2 resolved by a touch · 0 snoozed · 0 dismissed · 0 expired · 1 open · 0 escalated · median 2.5 days to a touch",
      "`no-contact-enterprise`: 1 nudged → 1 delivered → 0 resolved by a touch · 0 snoozed · 0 dismissed · 0 expired · 1 open · 0 escalated · median — to a touch",
      "no rule has a holdout group yet",
    ];
    for (const line of expected) {
      expect(text).toContain(line);
      expect(blocks).toContain(JSON.stringify(line).slice(1, -1));
    }
    const parsed = JSON.parse(blocks) as Array<{ type: string; text?: { text: string } }>;
    expect(parsed.length).toBeLessThanOrEqual(50);
    expect(parsed.every((b) => (b.text?.text.length ?? 0) <= 3000)).toBe(true);
  });

  it("restricts the period's KPIs to a segment, and names the known segments for an unknown one", async () => {
    h = await fixture();
    const enterprise = await statsAnswer(h, "stats enterprise");
    expect(enterprise.text).toContain("segment enterprise");
    expect(enterprise.text).toContain("NPS now: *0* (1 answers in the last 90 days: 0 promoters, 1 passives, 0 detractors)");
    expect(enterprise.text).toContain("Retention: *100.0%* ((1 at the end − 0 new) ÷ 1 at the start; 0 churned)");
    expect(enterprise.text).not.toContain("`no-contact`:");
    const unknown = await statsAnswer(h, "stats <script>");
    expect(unknown.text).toBe('Unknown segment "&lt;script&gt;"; segments: enterprise, smb.');
  });

  it("shows the holdout comparison per rule with counts, interval and p-value, or 'not enough data yet'", async () => {
    const customers: CustomerSeed[] = Array.from({ length: 80 }, (_, i) => ({ id: `H-${i}`, name: `Holdout ${i}`, quietDays: 200 }));
    h = await startHarness({ customers });
    const rules = JSON.parse(defaultRulesText()) as { rules: Array<{ id: string; nudge: Record<string, unknown> }> };
    for (const rule of rules.rules) if (rule.id === "no-contact") rule.nudge.holdoutPercent = 50;
    await applyRuleSet(h.store, JSON.stringify(rules), { author: "U0ADMIN", source: "test" });
    await sweep(h.store, NOW - 3 * DAY_MS);
    const count = async (heldOut: number) =>
      Number(
        (
          await h.store.db
            .selectFrom("nudges")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("held_out", "=", heldOut)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const [nudged, heldOut] = [await count(0), await count(1)];
    expect(nudged + heldOut).toBe(80);
    expect(Math.min(nudged, heldOut)).toBeGreaterThanOrEqual(30);
    // Half the held-out customers churned after the nudge, no nudged one: a difference the test must find.
    const heldOutCustomers = await h.store.db.selectFrom("nudges").select("customer_id").where("held_out", "=", 1).execute();
    await h.store.db
      .updateTable("customers")
      .set({ churned_at: NOW - DAY_MS })
      .where(
        "id",
        "in",
        heldOutCustomers.map((n) => n.customer_id).filter((id) => id % 2 === 0),
      )
      .execute();
    const churned = await h.store.db
      .selectFrom("customers")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("churned_at", "is not", null)
      .executeTakeFirstOrThrow();
    const churnedPct = Math.round((Number(churned.n) * 100) / heldOut);

    const { text } = await statsAnswer(h);
    expect(text).toContain(`\`no-contact\` (${nudged} nudged, ${heldOut} held out)`);
    // Nudges 3 days old cannot be scored on "touched within 7 days" yet.
    expect(text).toContain("not enough data yet: needs 30 in each group, has 0 nudged and 0 held out");
    expect(text).toContain(`churned after the nudge: lower when nudged: 0% of nudged vs ${churnedPct}% of held out (−${churnedPct} points, 95% CI −`);
    expect(text).toMatch(/held out \(−\d+ points, 95% CI −\d+ to −\d+; p &lt; 0\.001\)/);
    expect(text).toContain("not enough data yet: needs 30 customers with an NPS answer before and after the nudge in each group, has 0 nudged and 0 held out");
  });
});

describe("App Home numbers", () => {
  it("shows the rep's touches and open nudges and the team's NPS and retention", async () => {
    h = await fixture();
    const event = {
      type: "event_callback",
      team_id: TEAM,
      api_app_id: "A0KEEPWARM",
      event_id: "EvHome",
      event_time: 1,
      event: { type: "app_home_opened", user: REP, channel: "D0REP", tab: "home", event_ts: "1.1" },
    };
    const sent = await postSigned(`${h.url}/slack/events`, JSON.stringify(event), { secret: SECRET, contentType: "application/json" });
    expect(sent.status).toBe(200);
    const view = JSON.stringify((await h.fake.waitFor(() => h.fake.callsOf("views.publish")[0])).args.view);
    expect(view).toContain("Your touches this week: *1*  ·  your open nudges: *2*");
    expect(view).toContain("Team NPS now: *+25*");
    expect(view).toContain("Team retention, last 90 days: *80.0%* ((5 at the end − 1 new) ÷ 5 at the start; 1 churned)");
    expect(view).not.toContain("waiting:");
  });
});
