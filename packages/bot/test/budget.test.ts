import { postSigned } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, NOW, outboxRows, REP, SECRET, seedCustomers, startHarness, sweep, TEAM } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const HOUR = 3_600_000;

/** Nudge ids of every message posted so far (a digest lists several), in posting order. */
function postedNudgeIds(h: Harness): number[] {
  return h.fake.callsOf("chat.postMessage").flatMap((c) => {
    const payload = (c.args.metadata as { event_payload: { nudge_id: number; nudge_ids?: string } }).event_payload;
    return payload.nudge_ids === undefined ? [Number(payload.nudge_id)] : payload.nudge_ids.split(",").map(Number);
  });
}

const nudgeIdOf = async (h: Harness, externalId: string) =>
  (
    await h.store.db
      .selectFrom("nudges as n")
      .innerJoin("customers as c", "c.id", "n.customer_id")
      .select("n.id")
      .where("c.external_id", "=", externalId)
      .executeTakeFirstOrThrow()
  ).id;

async function openHome(h: Harness): Promise<string> {
  const before = h.fake.callsOf("views.publish").length;
  const event = {
    type: "event_callback",
    team_id: TEAM,
    api_app_id: "A0KEEPWARM",
    event_id: `Ev${before}`,
    event_time: 1,
    event: { type: "app_home_opened", user: REP, channel: "D0REP", tab: "home", event_ts: "1.1" },
  };
  const sent = await postSigned(`${h.url}/slack/events`, JSON.stringify(event), { secret: SECRET, contentType: "application/json" });
  expect(sent.status).toBe(200);
  const publish = await h.fake.waitFor(() => h.fake.callsOf("views.publish")[before]);
  return JSON.stringify(publish.args.view);
}

describe("the nudge budget in Slack delivery", () => {
  it("DMs at most KEEPWARM_MAX_NUDGES_PER_DAY per rep and day, highest priority first; the rest arrive on the next days, none lost, none twice", async () => {
    // NOW is 10:00 UTC = 19:00 in Tokyo: the rep's next day starts 5 hours later, the same UTC day.
    h = await startHarness({
      env: { KEEPWARM_MAX_NUDGES_PER_DAY: "2", KEEPWARM_TZ: "Asia/Tokyo" },
      customers: [
        { id: "C-1", name: "Alpha" },
        { id: "C-2", name: "Bravo" },
        { id: "C-3", name: "Charlie" },
        { id: "C-4", name: "Delta" },
        { id: "C-5", name: "Echo Enterprise", segment: "enterprise" },
      ],
    });
    await sweep(h.store);
    const [alpha, bravo, charlie, delta, echo] = await Promise.all(["C-1", "C-2", "C-3", "C-4", "C-5"].map((id) => nudgeIdOf(h, id)));

    const day1 = await h.bot.delivery.runOnce();
    expect(day1).toMatchObject({ delivered: 2, deferred: 3 });
    // Echo's rule is "high" priority; then the oldest of the "normal" ones.
    expect(postedNudgeIds(h)).toEqual([echo, alpha]);
    const waiting = (await outboxRows(h.store)).filter((o) => o.status === "pending");
    expect(waiting).toHaveLength(3);
    expect(waiting.every((w) => w.nextAttemptAt === Date.UTC(2026, 10, 23, 15, 0) && w.lastError?.includes("waits until 2026-11-24"))).toBe(true);

    // The waiting ones are on the App Home meanwhile.
    const home = await openHome(h);
    expect(home).toContain("waiting: 3 more nudges");
    expect(home).toContain("Your open nudges (5)");
    expect(home).toContain("Delta");

    h.clock.advance(4 * HOUR); // 23:00 in Tokyo: still the same day
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 0, deferred: 0 });

    h.clock.advance(2 * HOUR); // 01:00 in Tokyo, the next day (still 2026-11-23 in UTC)
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 2, deferred: 1 });
    expect(postedNudgeIds(h)).toEqual([echo, alpha, bravo, charlie]);
    expect(await openHome(h)).toContain("waiting: 1 more nudge ");

    h.clock.advance(24 * HOUR);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1, deferred: 0 });
    h.clock.advance(24 * HOUR);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 0, deferred: 0 });

    const ids = postedNudgeIds(h);
    expect(ids).toEqual([echo, alpha, bravo, charlie, delta]);
    expect(new Set(ids).size).toBe(5);
    expect((await outboxRows(h.store)).filter((o) => o.status !== "done")).toHaveLength(0);
    expect(await openHome(h)).not.toContain("waiting:");
  });

  it("counts what the rep already got today, across passes and sweeps", async () => {
    h = await startHarness({
      env: { KEEPWARM_MAX_NUDGES_PER_DAY: "2" },
      customers: [
        { id: "C-1", name: "Alpha" },
        { id: "C-2", name: "Bravo" },
      ],
    });
    await sweep(h.store);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 2, deferred: 0 });
    await seedCustomers(h.store, [{ id: "C-3", name: "Charlie" }]);
    h.clock.advance(HOUR);
    await sweep(h.store, NOW + HOUR);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 0, deferred: 1 });
    h.clock.advance(24 * HOUR);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1 });
    expect(postedNudgeIds(h)).toEqual([1, 2, 3]);
  });

  it("counts a digest as as many nudges as it holds, and never budgets channel nudges", async () => {
    h = await startHarness({
      env: { KEEPWARM_MAX_NUDGES_PER_DAY: "4", KEEPWARM_DIGEST_THRESHOLD: "3", KEEPWARM_FALLBACK_CHANNEL: "#cs-team" },
      customers: [
        { id: "C-1", name: "Alpha" },
        { id: "C-2", name: "Bravo" },
        { id: "C-3", name: "Charlie" },
        { id: "C-4", name: "Delta" },
        { id: "C-5", name: "Echo" },
        ...["O-1", "O-2", "O-3", "O-4", "O-5", "O-6"].map((id) => ({ id, name: `Orphan ${id}`, owner: null })),
      ],
    });
    await sweep(h.store);
    const day1 = await h.bot.delivery.runOnce();
    expect(day1).toMatchObject({ delivered: 10, deferred: 1 });
    const dm = h.fake.messages.get("D0REP") ?? [];
    expect(dm).toHaveLength(1);
    expect(String(dm[0]?.metadata?.event_payload.nudge_ids).split(",")).toHaveLength(4);
    // Six ownerless nudges in the fallback channel: over the budget of 4, but channels are not budgeted.
    expect(postedNudgeIds(h).filter((id) => id > 5)).toHaveLength(6);

    h.clock.advance(24 * HOUR);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1, deferred: 0 });
    expect(h.fake.messages.get("D0REP")).toHaveLength(2);
    expect(new Set(postedNudgeIds(h)).size).toBe(11);
  });
});
