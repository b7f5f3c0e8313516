import { DAY_MS } from "@keepwarm/store";
import { afterEach, describe, expect, it } from "vitest";
import { applyNudgeBudget, deliverToConsole, parseEnv } from "../src/index";
import { ago, customer, freshStatsStore, NOW, nudge } from "./stats-fixture";

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
    const fixture = await freshStatsStore();
    close = fixture.close;
    const { store } = fixture;
    const enqueue = store.sqlite.prepare(
      "INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES ('deliver', ?, 'pending', 0, ?, ?)",
    );
    for (let i = 0; i < 5; i++) {
      const id = await customer(store, { id: `B-${i}`, since: ago(400), owner: "U0REP" });
      const nudgeId = await nudge(store, { ruleId: "r", customerId: id, createdAt: NOW });
      store.sqlite.prepare("UPDATE nudges SET priority = ? WHERE id = ?").run(i === 3 ? 4 : 1, nudgeId);
      enqueue.run(nudgeId, NOW, NOW);
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
    expect(store.sqlite.prepare("SELECT count(*) FROM nudges WHERE delivered_at IS NULL").pluck().get()).toBe(0);
  });

  it("rejects a budget that is not a whole number ≥ 1", () => {
    expect(parseEnv({}).KEEPWARM_MAX_NUDGES_PER_DAY).toBe(20);
    expect(() => parseEnv({ KEEPWARM_MAX_NUDGES_PER_DAY: "0" })).toThrow(/^KEEPWARM_MAX_NUDGES_PER_DAY="0": must be a whole number ≥ 1/);
    expect(() => parseEnv({ KEEPWARM_MAX_NUDGES_PER_DAY: "lots" })).toThrow(/^KEEPWARM_MAX_NUDGES_PER_DAY="lots"/);
  });
});
