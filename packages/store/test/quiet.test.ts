import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// The cutoff is core's (calendar days in KEEPWARM_TZ); the store holds the query. Both are under test here.
import { QUIET_DAYS, quietBefore } from "../../core/src/quiet";
import { Calendar } from "../../rules/src/calendar";
import { countQuietCustomers, openStore, quietCustomers, type Store } from "../src/index";
import { migratedDatabase } from "../src/testing/database";

/** Paris is UTC+2 in summer: local midnight is 22:00 UTC the day before, so a UTC-day definition would be off by one. */
const PARIS = new Calendar("Europe/Paris");
const AT = Date.parse("2026-07-15T07:00:00Z"); // 09:00 in Paris
const CUTOFF = Date.parse("2026-06-15T22:00:00Z"); // 2026-06-16 00:00 in Paris: 29 calendar days before AT
const MS = 1;
const LONG_AGO = Date.parse("2025-01-01T00:00:00Z");

let tmp: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(async () => {
  tmp = tempDir("keepwarm-quiet-");
  store = await openStore(await migratedDatabase(tmp));
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

interface Spec {
  id: string;
  since?: number | null;
  created?: number;
  churned?: number | null;
  owner?: string | null;
  segment?: string | null;
  touches?: number[];
}

async function add(spec: Spec): Promise<void> {
  const row = await store.db
    .insertInto("customers")
    .values({
      external_id: spec.id,
      name: spec.id,
      segment: spec.segment ?? null,
      owner_slack_id: spec.owner ?? null,
      since_at: spec.since === undefined ? LONG_AGO : spec.since,
      churned_at: spec.churned ?? null,
      loyalty_member: 0,
      attributes: "{}",
      created_at: spec.created ?? LONG_AGO,
      updated_at: spec.created ?? LONG_AGO,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  for (const at of spec.touches ?? []) {
    await store.db.insertInto("touchpoints").values({ customer_id: row.id, kind: "call", occurred_at: at, logged_at: at, source: "cli" }).execute();
  }
}

const quietIds = async (query: { ownerSlackId?: string; segment?: string } = {}) =>
  (await quietCustomers(store.db, { quietBefore: quietBefore(PARIS, AT), at: AT, limit: 100, ...query })).rows.map((r) => r.externalId).sort();

describe("quiet customers: 30 calendar days without a touch in KEEPWARM_TZ", () => {
  it("the cutoff is local midnight starting the 29th day back", () => {
    expect(QUIET_DAYS).toBe(30);
    expect(quietBefore(PARIS, AT)).toBe(CUTOFF);
    expect(PARIS.daysBetween(CUTOFF - MS, AT)).toBe(30);
    expect(PARIS.daysBetween(CUTOFF, AT)).toBe(29);
  });

  it("a last touch exactly 30 calendar days back is quiet; 29 days back is not, to the millisecond", async () => {
    await add({ id: "touched-30-days", touches: [LONG_AGO, CUTOFF - MS] }); // 2026-06-15 23:59:59.999 in Paris
    await add({ id: "touched-29-days", touches: [LONG_AGO, CUTOFF] }); // 2026-06-16 00:00 in Paris
    // 23:00 UTC on 06-15 is already 06-16 in Paris: 29 days there, though 30 UTC dates back.
    await add({ id: "utc-30-paris-29", touches: [Date.parse("2026-06-15T23:00:00Z")] });
    await add({ id: "touched-today", touches: [AT - 60_000] });
    expect(await quietIds()).toEqual(["touched-30-days"]);
  });

  it("a never-touched customer counts from since, else from when they were added", async () => {
    await add({ id: "since-30-days", since: CUTOFF - MS });
    await add({ id: "since-29-days", since: CUTOFF });
    await add({ id: "no-since-created-30-days", since: null, created: CUTOFF - MS });
    await add({ id: "no-since-created-29-days", since: null, created: CUTOFF });
    const { rows } = await quietCustomers(store.db, { quietBefore: quietBefore(PARIS, AT), at: AT });
    expect(rows.map((r) => [r.externalId, r.lastTouchAt, r.quietSince])).toEqual([
      ["no-since-created-30-days", null, CUTOFF - MS],
      ["since-30-days", null, CUTOFF - MS],
    ]);
  });

  it("judges history at `at`: later touches do not count, and customers not yet started are left out", async () => {
    await add({ id: "touched-after-at", touches: [CUTOFF - 5 * 86_400_000, AT + MS] });
    await add({ id: "starts-after-at", since: AT + MS });
    expect(await quietIds()).toEqual(["touched-after-at"]);
  });

  it("churned customers are excluded; a churn date after `at` still counts them", async () => {
    await add({ id: "churned-before", churned: AT - 86_400_000 });
    await add({ id: "churned-at", churned: AT });
    await add({ id: "churns-later", churned: AT + 86_400_000 });
    expect(await quietIds()).toEqual(["churns-later"]);
    expect(await countQuietCustomers(store.db, { quietBefore: quietBefore(PARIS, AT), at: AT })).toBe(1);
  });

  it("filters by owner and by segment, and counts the same customers it lists", async () => {
    await add({ id: "a-ent", owner: "U0A", segment: "enterprise" });
    await add({ id: "a-smb", owner: "U0A", segment: "smb" });
    await add({ id: "b-ent", owner: "U0B", segment: "enterprise" });
    await add({ id: "a-ent-busy", owner: "U0A", segment: "enterprise", touches: [AT - 86_400_000] });
    await add({ id: "nobody", owner: null, segment: null });
    expect(await quietIds({ ownerSlackId: "U0A" })).toEqual(["a-ent", "a-smb"]);
    expect(await quietIds({ segment: "enterprise" })).toEqual(["a-ent", "b-ent"]);
    expect(await quietIds({ ownerSlackId: "U0A", segment: "enterprise" })).toEqual(["a-ent"]);
    const cutoff = quietBefore(PARIS, AT);
    expect(await countQuietCustomers(store.db, { quietBefore: cutoff, at: AT })).toBe(4);
    expect(await countQuietCustomers(store.db, { quietBefore: cutoff, at: AT, ownerSlackId: "U0A" })).toBe(2);
    const limited = await quietCustomers(store.db, { quietBefore: cutoff, at: AT, limit: 1 });
    expect(limited.rows).toHaveLength(1);
    expect(limited.total).toBe(4);
  });

  it("agrees with calendar days since the last touch (the daysSinceLastTouch fact, stats' buckets) for every customer", async () => {
    // Touches every 6 hours from 35 to 25 days back: every local hour-of-day around the edge.
    const touches = Array.from({ length: 41 }, (_, i) => AT - 35 * 86_400_000 + i * 6 * 3_600_000);
    for (const [i, at] of touches.entries()) await add({ id: `c-${String(i).padStart(2, "0")}`, touches: [at] });
    const expected = touches.flatMap((at, i) => (PARIS.daysBetween(at, AT) >= QUIET_DAYS ? [`c-${String(i).padStart(2, "0")}`] : []));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(touches.length);
    expect(await quietIds()).toEqual(expected);
  });
});
