import { claimNudge } from "@keepwarm/core";
import { DAY_MS, openStore } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { blockAction, type Harness, NOW, startHarness, sweep } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const FALLBACK = { KEEPWARM_FALLBACK_CHANNEL: "#cs-team" };
const claimClick = (user: string, response: string) =>
  h.interact(blockAction({ type: "button", action_id: "nudge_claim", value: '{"n":1}' }, { user, responseUrl: h.fake.responseUrl(response) }));
const owner = async () => (await h.store.db.selectFrom("customers").select("owner_slack_id as owner").where("id", "=", 1).executeTakeFirstOrThrow()).owner;

async function orphanInChannel() {
  h = await startHarness({ customers: [{ id: "C-1", name: "Orphan Inc", owner: null }], env: FALLBACK });
  await sweep(h.store);
  await h.bot.delivery.runOnce();
  const [posted] = h.fake.messages.get("cs-team") ?? [];
  expect(JSON.stringify(posted?.blocks)).toContain('"action_id":"nudge_claim"');
}

describe("I'll take it: the claimable queue of unowned customers", () => {
  it("the first click makes the clicker the owner, the message says so for everyone, and the second clicker hears who took it", async () => {
    await orphanInChannel();
    await claimClick("U0ANA", "a");
    expect(String((await h.response("a")).text)).toContain("It's yours");
    expect(await owner()).toBe("U0ANA");
    await claimClick("U0BEN", "b");
    expect(String((await h.response("b")).text)).toBe("<@U0ANA> already took it.");
    expect(await owner()).toBe("U0ANA");
    await h.bot.delivery.runOnce();
    const blocks = JSON.stringify(h.fake.messages.get("cs-team")?.[0]?.blocks);
    expect(blocks).toContain(":raising_hand: <@U0ANA> took it");
    expect(blocks).toContain("Owner: <@U0ANA>");
    expect(blocks).not.toContain("nudge_claim");
    const nudge = await h.store.db.selectFrom("nudges").select(["claimed_by as by", "claimed_at as at"]).where("id", "=", 1).executeTakeFirstOrThrow();
    expect(nudge).toEqual({ by: "U0ANA", at: NOW });
  });

  it("of two clicks at the same moment exactly one wins, through the bot and (PostgreSQL) through two separate connection pools", async () => {
    await orphanInChannel();
    await Promise.all([claimClick("U0ANA", "a"), claimClick("U0BEN", "b")]);
    const answers = [String((await h.response("a")).text), String((await h.response("b")).text)];
    const winner = await owner();
    expect(["U0ANA", "U0BEN"]).toContain(winner);
    const loser = winner === "U0ANA" ? "U0BEN" : "U0ANA";
    expect(answers.filter((t) => t.includes("It's yours"))).toHaveLength(1);
    expect(answers).toContain(`<@${winner}> already took it.`);
    expect(answers.join("\n")).not.toContain(`<@${loser}>`);

    // The same race between two stores, as two processes' connection pools: PostgreSQL only (a SQLite
    // file has one writer, and two stores in one thread would wait on each other's lock, not race).
    if (h.store.engine !== "postgres") return;
    const other = await openStore(h.env.KEEPWARM_DB);
    try {
      for (let round = 0; round < 10; round++) {
        await h.store.db.updateTable("customers").set({ owner_slack_id: null }).where("id", "=", 1).execute();
        const results = await Promise.all([claimNudge(h.store, 1, "U0ANA", NOW), claimNudge(other, 1, "U0BEN", NOW)]);
        expect(results.filter((r) => r.outcome === "claimed")).toHaveLength(1);
        expect(results.filter((r) => r.outcome === "taken")).toHaveLength(1);
        const won = results.find((r) => r.outcome === "claimed");
        expect(await owner()).toBe(won?.outcome === "claimed" ? won.owner : undefined);
      }
    } finally {
      await other.close();
    }
  });

  it("a customer who already has an owner shows no claim button, and a forged claim changes nothing", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }], env: FALLBACK });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    expect(JSON.stringify(h.fake.allMessages()[0]?.blocks)).not.toContain("nudge_claim");
    const before = await owner();
    await claimClick("U0INTRUDER", "x");
    expect(String((await h.response("x")).text)).toBe(`<@${before}> already took it.`);
    expect(await owner()).toBe(before);
    await h.interact(blockAction({ type: "button", action_id: "nudge_claim", value: "garbage" }, { responseUrl: h.fake.responseUrl("g") }));
    expect(String((await h.response("g")).text)).toContain("no longer exists");
  });

  it("an unclaimed nudge is escalated once after the rule's escalateAfterDays; a claim restarts the clock for the one who took it", async () => {
    const env = { ...FALLBACK, KEEPWARM_ESCALATION_CHANNEL: "#cs-leads" };
    // The default rule no-contact-enterprise escalates after 5 days.
    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan Inc", segment: "enterprise", owner: null }], env });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    for (const day of [5, 6]) {
      h.clock.advance((day === 5 ? 5 : 1) * DAY_MS);
      await sweep(h.store, NOW + day * DAY_MS);
      await h.bot.delivery.runOnce();
    }
    expect(h.fake.messages.get("cs-leads")).toHaveLength(1);
    await h.close();

    h = await startHarness({ customers: [{ id: "C-1", name: "Orphan Inc", segment: "enterprise", owner: null }], env });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    // Taken on day 3: not escalated on day 5, but on day 8, five days after the claim.
    await claimNudge(h.store, 1, "U0ANA", NOW + 3 * DAY_MS);
    await sweep(h.store, NOW + 5 * DAY_MS);
    expect(await h.store.db.selectFrom("nudges").select("escalated_at as at").where("id", "=", 1).executeTakeFirstOrThrow()).toEqual({ at: null });
    await sweep(h.store, NOW + 8 * DAY_MS);
    expect(await h.store.db.selectFrom("nudges").select("escalated_at as at").where("id", "=", 1).executeTakeFirstOrThrow()).toEqual({ at: NOW + 8 * DAY_MS });
  });
});
