import { DAY_MS, enqueueOutbox, type Store } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { applyNudgeBudget, deliverToConsole, parseEnv } from "../src/index";
import { addCustomer, countRows, daysBefore, freshIngestStore, NOW } from "./ingest-fixtures";

/** An open nudge about a customer, planned at NOW and not delivered yet. */
async function openNudge(store: Store, customerId: number, priority: number): Promise<number> {
  const row = await store.db
    .insertInto("nudges")
    .values({
      rule_id: "r",
      rule_set_version: 1,
      customer_id: customerId,
      status: "open",
      priority,
      explanation: "why",
      message: "message",
      facts: "{}",
      held_out: 0,
      resolve_on_touch: 1,
      cooldown_days: 14,
      destination: "owner",
      created_at: NOW,
      updated_at: NOW,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe("nudge budget", () => {
  it("keeps the highest priorities first, per recipient, counting what was already delivered today", () => {
    const items = [
      { id: 1, recipient: "U1", priority: 1 },
      { id: 2, recipient: "U1", priority: 4 },
      { id: 3, recipient: "U1", priority: 2 },
      { id: 4, recipient: "U1", priority: 4 },
      { id: 5, recipient: "U2", priority: 1 },
      { id: 6, recipient: null, priority: 1 },
    ];
    const { now, deferred } = applyNudgeBudget(items, new Map([["U2", 3]]), 3);
    // U1: priorities 4, 4, 2 fit (ties keep their order); the low one waits. U2 already had 3 today. Channels are not budgeted.
    expect(now.map((i) => i.id)).toEqual([2, 4, 3, 6]);
    expect(deferred.map((i) => i.id)).toEqual([1, 5]);
  });

  it("console delivery holds a rep to KEEPWARM_MAX_NUDGES_PER_DAY; the rest arrive on later days, none lost", async () => {
    const fixture = await freshIngestStore();
    close = fixture.close;
    const { store } = fixture;
    for (let i = 0; i < 5; i++) {
      const id = await addCustomer(store, { id: `B-${i}`, since: daysBefore(400), owner: "U0REP" });
      const nudgeId = await openNudge(store, id, i === 3 ? 4 : 1);
      await enqueueOutbox(store.db, [{ kind: "deliver", nudgeId }], NOW);
    }
    const max = parseEnv({ KEEPWARM_MAX_NUDGES_PER_DAY: "2" }).KEEPWARM_MAX_NUDGES_PER_DAY;
    const lines: string[] = [];
    const day1 = await deliverToConsole(store, { write: (l) => lines.push(l), now: NOW, maxNudgesPerDay: max });
    expect(day1).toMatchObject({ delivered: 2, deferred: 3 });
    // The urgent one (B-3) goes first, then the oldest.
    expect(lines.join("\n")).toContain("Customer B-3");
    expect(lines.join("\n")).toContain("Customer B-0");
    expect(lines.join("\n")).toContain("3 more nudges wait for tomorrow: at most 2 per rep and day");
    // Same day: the budget is spent.
    expect(await deliverToConsole(store, { write: () => {}, now: NOW + 3_600_000, maxNudgesPerDay: max })).toMatchObject({ delivered: 0, deferred: 3 });
    expect(await deliverToConsole(store, { write: () => {}, now: NOW + DAY_MS, maxNudgesPerDay: max })).toMatchObject({ delivered: 2, deferred: 1 });
    expect(await deliverToConsole(store, { write: () => {}, now: NOW + 2 * DAY_MS, maxNudgesPerDay: max })).toMatchObject({ delivered: 1, deferred: 0 });
    const undelivered = await store.db
      .selectFrom("nudges")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("delivered_at", "is", null)
      .executeTakeFirstOrThrow();
    expect(Number(undelivered.n)).toBe(0);
    expect(await countRows(store, "nudges")).toBe(5);
  });

  it("rejects a budget that is not a whole number ≥ 1", () => {
    expect(parseEnv({}).KEEPWARM_MAX_NUDGES_PER_DAY).toBe(20);
    expect(() => parseEnv({ KEEPWARM_MAX_NUDGES_PER_DAY: "0" })).toThrow(/^KEEPWARM_MAX_NUDGES_PER_DAY="0": must be a whole number ≥ 1/);
    expect(() => parseEnv({ KEEPWARM_MAX_NUDGES_PER_DAY: "lots" })).toThrow(/^KEEPWARM_MAX_NUDGES_PER_DAY="lots"/);
  });
});
