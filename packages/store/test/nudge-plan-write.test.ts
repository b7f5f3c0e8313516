import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyNudgePlan, openStore, type PlannedNudgeRow, type Store, writeTransaction } from "../src/index";
import { freshDatabase } from "../src/testing/database";

const NOW = Date.parse("2026-11-23T09:00:00Z");
/** Text that an array literal or a JSON document must escape or quote to carry intact. */
const AWKWARD = ['say "hi"', 'back\\slash \\" both', "{braces, commas}", "NULL", "", "line\nbreak\ttab ☃"];

let tmp: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(async () => {
  tmp = tempDir("keepwarm-nudge-plan-write-");
  store = await openStore(await freshDatabase(tmp));
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

/** One customer per awkward text, created one after the other so their ids follow AWKWARD's order. */
async function customers(): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < AWKWARD.length; i++) ids.push(await customer(`C${i}`));
  return ids;
}

async function customer(id: string): Promise<number> {
  const row = await store.db
    .insertInto("customers")
    .values({ external_id: id, name: id, loyalty_member: 0, attributes: "{}", created_at: NOW, updated_at: NOW })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

function planned(customerId: number, text: string, heldOut: boolean): PlannedNudgeRow {
  return {
    ruleId: `rule ${text}`,
    ruleSetVersion: 1,
    customerId,
    priority: 2,
    explanation: text,
    message: `${text}!`,
    action: text === "" ? null : text,
    facts: JSON.stringify({ note: text }),
    heldOut,
    resolveOnTouch: true,
    cooldownDays: 14,
    destination: "owner",
    sweepRunId: null,
    lastTouchAt: text === "NULL" ? null : NOW - 1,
    variant: text === "" ? "b" : null,
  };
}

describe("applyNudgePlan writes a chunk of nudges", () => {
  it("stores every text column exactly as planned, quotes, backslashes, braces and the word NULL included", async () => {
    const ids = await customers();
    const rows = AWKWARD.map((text, i) => planned(ids[i] as number, text, false));
    const created = await writeTransaction(store.db, (trx) => applyNudgePlan(store, trx, { create: rows, reopen: [], expire: [] }, NOW));
    expect(created).toHaveLength(AWKWARD.length);
    const stored = await store.db
      .selectFrom("nudges")
      .select(["rule_id", "customer_id", "explanation", "message", "action", "facts", "last_touch_at", "variant", "status", "created_at"])
      .orderBy("customer_id")
      .execute();
    expect(
      stored.map((row) => ({
        ...row,
        customer_id: Number(row.customer_id),
        last_touch_at: row.last_touch_at === null ? null : Number(row.last_touch_at),
        created_at: Number(row.created_at),
      })),
    ).toEqual(
      rows.map((row) => ({
        rule_id: row.ruleId,
        customer_id: row.customerId,
        explanation: row.explanation,
        message: row.message,
        action: row.action,
        facts: row.facts,
        last_touch_at: row.lastTouchAt,
        variant: row.variant,
        status: "open",
        created_at: NOW,
      })),
    );
  });

  it("enqueues one held delivery per shown nudge, in creation order, and none for a held-out one", async () => {
    const ids = await customers();
    const rows = AWKWARD.map((text, i) => planned(ids[i] as number, text, i === 1));
    await writeTransaction(store.db, (trx) => applyNudgePlan(store, trx, { create: rows, reopen: [], expire: [] }, NOW));
    const nudges = await store.db.selectFrom("nudges").select(["id", "held_out"]).orderBy("id").execute();
    const outbox = await store.db
      .selectFrom("outbox")
      .select(["id", "kind", "nudge_id", "status", "attempts", "next_attempt_at", "created_at"])
      .orderBy("id")
      .execute();
    expect(
      outbox.map((item) => ({
        ...item,
        id: undefined,
        nudge_id: Number(item.nudge_id),
        next_attempt_at: Number(item.next_attempt_at),
        created_at: Number(item.created_at),
      })),
    ).toEqual(
      nudges
        .filter((nudge) => nudge.held_out === 0)
        .map((nudge) => ({ id: undefined, kind: "deliver", nudge_id: Number(nudge.id), status: "held", attempts: 0, next_attempt_at: NOW, created_at: NOW })),
    );
  });
});
