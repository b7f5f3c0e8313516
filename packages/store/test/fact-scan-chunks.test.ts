import { tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, factRowChunks, insertCustomers, insertTouches, openStore, type ScanColumn, type Store, scanFactRows } from "../src/index";
import { migratedDatabase } from "../src/testing/database";

/*
 * The fact scan hands out chunks by cursor. On PostgreSQL a large chunk is fetched as
 * two halves at once and the next chunk ahead of time; whatever the chunk size, the
 * scan must return every live customer exactly once, in id order, with the same values.
 */

const AS_OF = Date.parse("2026-11-23T09:00:00Z");
const CUSTOMERS = 2_600;
const COLUMNS: ScanColumn[] = [
  { name: "last", of: "touches", op: "lastAt", to: AS_OF },
  { name: "n30", of: "touches", op: "count", from: AS_OF - 30 * DAY_MS, to: AS_OF },
  { name: "kind", of: "touches", op: "latest", nth: 1, to: AS_OF },
];

let tmp: ReturnType<typeof tempDir>;
let store: Store;
/** What each live customer's row must say: last touch, touches in 30 days, latest kind. */
const expected = new Map<number, [number | null, number, string | null]>();

beforeAll(async () => {
  tmp = tempDir("keepwarm-scan-chunks-");
  store = await openStore(await migratedDatabase(tmp));
  const created = AS_OF - 400 * DAY_MS;
  const ids = await insertCustomers(
    store.db,
    Array.from({ length: CUSTOMERS }, (_, i) => ({
      external_id: `C${i}`,
      name: `Customer ${i}`,
      loyalty_member: 0,
      attributes: "{}",
      created_at: i % 97 === 0 ? AS_OF + DAY_MS : created, // added after the scan's instant: not scanned
      churned_at: i % 89 === 0 ? AS_OF - DAY_MS : null, // churned: not scanned
      updated_at: created,
    })),
  );
  const touches = [];
  for (const [i, id] of ids.entries()) {
    const count = i % 5; // 0..4 touches, i days apart
    for (let t = 0; t < count; t++) {
      const at = AS_OF - (t * 20 + (i % 7)) * DAY_MS;
      touches.push({ customer_id: id, kind: t === 0 ? "meeting" : "email", occurred_at: at, logged_at: at, source: "test" });
    }
    // A touch after the scan's instant never counts.
    touches.push({ customer_id: id, kind: "call", occurred_at: AS_OF + DAY_MS, logged_at: AS_OF + DAY_MS, source: "test" });
  }
  await insertTouches(store.db, touches);
  // Gaps in the id sequence, as deleted customers leave them, across chunk boundaries.
  const deleted = ids.filter((_, i) => i % 250 >= 240);
  await store.db.deleteFrom("customers").where("id", "in", deleted).execute();
  for (const [i, id] of ids.entries()) {
    if (deleted.includes(id) || i % 97 === 0 || i % 89 === 0) continue;
    const days = Array.from({ length: i % 5 }, (_, t) => t * 20 + (i % 7));
    expected.set(id, [days.length === 0 ? null : AS_OF - Math.min(...days) * DAY_MS, days.filter((d) => d <= 30).length, days.length === 0 ? null : "meeting"]);
  }
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

async function scan(chunkSize: number) {
  const rows: Array<[number, ...unknown[]]> = [];
  for await (const chunk of scanFactRows(store, AS_OF, COLUMNS, chunkSize)) for (const row of chunk) rows.push([row.id, ...row.values]);
  return rows;
}

describe("fact scan in chunks", () => {
  it.each([1, 7, 1_000, 1_299, 5_000])("returns every live customer once, in id order, with its values, at chunk size %i", async (size) => {
    const rows = await scan(size);
    expect(rows.map((row) => row[0])).toEqual([...expected.keys()]);
    expect(rows).toEqual([...expected].map(([id, values]) => [id, ...values]));
  });

  it("answers a chunk asked for out of order (not the one fetched ahead) with that chunk", async () => {
    const next = factRowChunks(store, AS_OF, COLUMNS);
    const first = await next(0, 1_000);
    expect(first.next).toBeDefined();
    const again = await next(0, 1_000);
    expect(again).toEqual(first);
    const ids = [...expected.keys()];
    expect(first.rows.map((row) => row.id)).toEqual(ids.filter((id) => id <= (first.next as number)));
  });

  it("ends with no cursor after the last customer", async () => {
    const next = factRowChunks(store, AS_OF, COLUMNS);
    const last = Math.max(...expected.keys());
    const chunk = await next(last, 1_000);
    expect(chunk.rows).toEqual([]);
    expect(chunk.next).toBeUndefined();
  });
});
