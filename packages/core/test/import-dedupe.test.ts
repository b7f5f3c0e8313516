import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCsv } from "../src/index";
import { HASH_SPACE, touchContentHash } from "../src/import/touch-dedupe";
import { daysBefore, type Fixture, freshStore, NOW } from "./sweep-fixtures";

let fx: Fixture;
let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  fx = await freshStore();
  tmp = tempDir("keepwarm-import-dedupe-");
  const customers = ["id,name", ...Array.from({ length: 20 }, (_, i) => `C-${i + 1},Customer ${i + 1}`)];
  expect(await importCsv(fx.store, "customers", csvFile("customers.csv", customers), { now: daysBefore(300) })).toMatchObject({
    committed: true,
    inserted: 20,
  });
});
afterEach(async () => {
  await fx.close();
  tmp.cleanup();
});

const csvFile = (name: string, lines: string[]): string => {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
};
const iso = (ms: number) => new Date(ms).toISOString();
const touches = () =>
  fx.store.sqlite
    .prepare(
      "SELECT c.external_id AS customer, t.occurred_at AS at, t.kind, t.note, t.logged_by AS loggedBy FROM touchpoints t JOIN customers c ON c.id = t.customer_id ORDER BY t.id",
    )
    .all() as Array<{
    customer: string;
    at: number;
    kind: string;
    note: string | null;
    loggedBy: string | null;
  }>;
const customerRowId = (externalId: string) => fx.store.sqlite.prepare("SELECT id FROM customers WHERE external_id = ?").pluck().get(externalId) as number;
/** A touch stored as an import would store it, but with a dedupe hash of our choosing. */
const plantTouch = (customer: string, at: number, kind: string, note: string | null, hash: number) =>
  fx.store.sqlite
    .prepare(
      "INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source, dedupe_hash) VALUES (?, ?, ?, ?, NULL, ?, 'import', ?)",
    )
    .run(customerRowId(customer), kind, at, NOW, note, hash);

describe("re-importing touches adds nothing twice", () => {
  it("a file of several 64-row batches, with duplicates inside it, imports each distinct touch once, and again nothing", async () => {
    const header = "customer_id,occurred_at,kind,note,logged_by";
    const lines = [header];
    for (let i = 0; i < 300; i++) {
      const customer = `C-${1 + (i % 20)}`;
      const at = iso(daysBefore(1 + (i % 37)) + i * 1000);
      lines.push(`${customer},${at},${["call", "email", "meeting"][i % 3]},"note ${i}, with a comma",U0000${i % 7}`);
    }
    // Same instant and customer, different content: two touches, not one.
    const same = iso(daysBefore(2));
    lines.push(`C-1,${same},call,first,`, `C-1,${same},call,second,`, `C-1,${same},email,first,`, `C-1,${same},call,,`, `C-1,${same},call,,U0000001`);
    // Duplicates of rows already in the file: as stored (trimmed, lower-cased kind, empty → null) they are equal.
    lines.push(lines[5] as string, `C-1,${same},CALL , first ,`, `C-1,${same}, call,  ,`);
    const file = csvFile("touches.csv", lines);

    const first = await importCsv(fx.store, "touches", file, { now: NOW });
    expect(first).toMatchObject({ committed: true, rows: 308, inserted: 305, unchanged: 3, invalid: [] });
    const stored = touches();
    expect(stored).toHaveLength(305);
    expect(stored.filter((t) => t.customer === "C-1" && t.at === Date.parse(same)).map((t) => `${t.kind}|${t.note}|${t.loggedBy}`)).toEqual([
      "call|first|null",
      "call|second|null",
      "email|first|null",
      "call|null|null",
      "call|null|U0000001",
    ]);

    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 308 });
    expect(touches()).toEqual(stored);

    // A later export that repeats most of the old rows and adds a few: only the new ones land.
    const later = [...lines.slice(0, 200), `C-3,${iso(daysBefore(1))},visit,new one,`, ...lines.slice(200), `C-4,${iso(daysBefore(1))},chat,,`];
    expect(await importCsv(fx.store, "touches", csvFile("later.csv", later), { now: NOW })).toMatchObject({ committed: true, inserted: 2, unchanged: 308 });
    expect(touches()).toHaveLength(307);
  });
});

describe("a dedupe-hash collision never drops a different touch", () => {
  const at = daysBefore(3);
  const row = (note: string) => `C-1,${iso(at)},call,${note},`;
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `C-2,${iso(daysBefore(5) + i)},email,filler ${i},`);

  for (const [path, fill] of [
    ["a lone row (single-row insert)", 0],
    ["a row inside a full 64-row batch", 100],
  ] as const) {
    it(`keeps a touch whose hash is taken by a different stored touch, and finds it again on re-import: ${path}`, async () => {
      const hash = touchContentHash("call", "the real note", null);
      // Two different touches already sit on the hash and on the next value.
      plantTouch("C-1", at, "call", "someone else's note", hash);
      plantTouch("C-1", at, "meeting", "a third note", (hash + 1) % HASH_SPACE);
      const file = csvFile("touches.csv", [
        "customer_id,occurred_at,kind,note,logged_by",
        ...filler(fill / 2),
        row("the real note"),
        ...filler(fill / 2).map((l) => l.replace("filler", "more")),
      ]);

      expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 1 + fill, unchanged: 0 });
      const atInstant = () => touches().filter((t) => t.customer === "C-1" && t.at === at);
      expect(atInstant().map((t) => t.note)).toEqual(["someone else's note", "a third note", "the real note"]);
      const probed = fx.store.sqlite.prepare("SELECT dedupe_hash FROM touchpoints WHERE note = 'the real note'").pluck().get();
      expect(probed).toBe((hash + 2) % HASH_SPACE);

      expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 1 + fill });
      expect(atInstant()).toHaveLength(3);
    });
  }

  it("a stored touch with the same content but not imported (no hash) does not hide an imported one", async () => {
    fx.store.sqlite
      .prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, note, source) VALUES (?, 'call', ?, ?, NULL, 'x', 'slack')")
      .run(customerRowId("C-1"), at, NOW);
    expect(await importCsv(fx.store, "touches", csvFile("t.csv", ["customer_id,occurred_at,kind,note,logged_by", row("x")]), { now: NOW })).toMatchObject({
      inserted: 1,
    });
    expect(touches()).toHaveLength(2);
  });

  it("the content hash is a safe integer that tells apart null, empty-looking and shifted fields", () => {
    const hashes = [
      touchContentHash("call", null, null),
      touchContentHash("call", "a", null),
      touchContentHash("call", null, "a"),
      touchContentHash("call", "ab", null),
      touchContentHash("call", "a", "b"),
      touchContentHash("email", null, null),
    ];
    for (const h of hashes) expect(Number.isSafeInteger(h) && h >= 0 && h < HASH_SPACE).toBe(true);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
