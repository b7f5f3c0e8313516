import { tempDir } from "@keepwarm/testkit";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  customerLookups,
  driverOf,
  findCustomerNamedExactly,
  findCustomersByNamePart,
  findCustomersByNamePrefix,
  ImportLedger,
  insertCustomers,
  openBulkTouchWriter,
  openStore,
  type Store,
  searchCustomers,
  type ImportedTouch,
  TouchOccurrences,
  undoImport,
} from "../src/index";
import { migratedDatabase, TEST_ENGINE } from "../src/testing/database";

const NOW = Date.parse("2026-06-15T12:00:00Z");
let tmp: ReturnType<typeof tempDir>;
let store: Store;
let ids: number[];
beforeEach(async () => {
  tmp = tempDir("keepwarm-store-ingest-");
  store = await openStore(await migratedDatabase(tmp));
  const names = ["Acme Corp", "Acme Industries", "50% Off Ltd", "5000 Club", "Under_Score", "Underscore Inc", "ACME corp", "Søren & Co"];
  ids = await insertCustomers(
    store.db,
    names.map((name, i) => ({ external_id: `C-${i + 1}`, name, loyalty_member: 0, attributes: "{}", created_at: NOW, updated_at: NOW })),
  );
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

const rowsOf = (rows: Array<[number, number, string, string | null, string | null]>): ImportedTouch[] =>
  rows.map(([customerId, occurredAt, kind, note, loggedBy]) => ({ customerId, occurredAt, kind, note, loggedBy, externalId: null }));
const touchCount = async () =>
  Number(
    (
      await store.db
        .selectFrom("touchpoints")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("customer lookups", () => {
  it("find by id or name in any case, oldest first, the id as written winning", async () => {
    expect((await findCustomerNamedExactly(store.db, "c-2"))?.name).toBe("Acme Industries");
    expect((await findCustomerNamedExactly(store.db, "acme CORP"))?.external_id).toBe("C-1");
    expect(await findCustomerNamedExactly(store.db, "Acme")).toBeUndefined();
  });

  it("match a name prefix in any case, and take LIKE wildcards in the text literally", async () => {
    expect((await findCustomersByNamePrefix(store.db, "acme c", 5)).map((c) => c.external_id)).toEqual(["C-1", "C-7"]);
    expect((await findCustomersByNamePrefix(store.db, "50%", 5)).map((c) => c.name)).toEqual(["50% Off Ltd"]);
    expect((await findCustomersByNamePrefix(store.db, "5%", 5)).map((c) => c.name)).toEqual([]);
    expect((await findCustomersByNamePrefix(store.db, "under_", 5)).map((c) => c.name)).toEqual(["Under_Score"]);
    expect((await findCustomersByNamePart(store.db, "co", "word", 5)).map((c) => c.name)).toEqual(["ACME corp", "Acme Corp", "Søren & Co"]);
    expect((await searchCustomers(store.db, "c-", 3)).map((c) => c.external_id)).toEqual(["C-3", "C-4", "C-7"]);
  });

  it("give /touch the same answers through customerLookups (prepared statements on SQLite)", async () => {
    const lookups = customerLookups(store);
    expect(await lookups.namedByFirstOf(["acme corp call", "ACME CORP", "acme"])).toMatchObject({ text: "ACME CORP", customer: { external_id: "C-1" } });
    expect(await lookups.namedByFirstOf(["c-3", "acme corp"])).toMatchObject({ text: "c-3", customer: { name: "50% Off Ltd" } });
    expect(await lookups.namedByFirstOf(["acme"])).toBeUndefined();
    expect((await lookups.byExternalId("C-2"))?.name).toBe("Acme Industries");
    expect(await lookups.byExternalId("c-2")).toBeUndefined();
    expect((await lookups.byExternalIdNoCase("c-2", 2)).map((c) => c.external_id)).toEqual(["C-2"]);
    expect((await lookups.byName("acme corp", 6)).map((c) => c.external_id)).toEqual(["C-1", "C-7"]);
    expect((await lookups.byNamePrefix("under_", 6)).map((c) => c.name)).toEqual(["Under_Score"]);
    expect((await lookups.byNamePrefix("acme", 6)).map((c) => c.external_id)).toEqual(["C-1", "C-7", "C-2"]);
  });

  it("give the import row ids by exact external id for lists of any length, and every id only up to a limit", async () => {
    const more = await insertCustomers(
      store.db,
      Array.from({ length: 1200 }, (_, i) => ({
        external_id: `M-${i}`,
        name: `More ${i}`,
        loyalty_member: 0,
        attributes: "{}",
        created_at: NOW,
        updated_at: NOW,
      })),
    );
    const lookups = customerLookups(store);
    for (const length of [0, 1, 2, 16, 17, 100, 101, 500, 501, 1200]) {
      // Every other id is unknown (or in another case): absent from the answer.
      const asked = Array.from({ length }, (_, i) => (i % 2 === 0 ? `M-${i}` : i % 4 === 1 ? `m-${i}` : `X-${i}`));
      const found = await lookups.idsByExternalIds(asked);
      expect(found).toEqual(new Map(asked.flatMap((id, i) => (i % 2 === 0 ? [[id, more[i] as number] as const] : []))));
    }
    expect((await lookups.idsByExternalIds(["C-1", "C-1", "c-1"])).get("C-1")).toBe(ids[0]);
    const all = await lookups.allIds(1208);
    expect(all?.size).toBe(1208);
    expect(all?.get("M-7")).toBe(more[7]);
    expect(all?.get("C-8")).toBe(ids[7]);
    expect(await lookups.allIds(1207)).toBeUndefined();
  });

  it.skipIf(TEST_ENGINE !== "postgres")("seek an index for a name prefix on PostgreSQL, whatever the collation", async () => {
    const plan = await store.db.connection().execute(async (conn) => {
      // Eight customers: without this the planner rightly prefers reading the table.
      await sql`SET enable_seqscan = off`.execute(conn);
      return sql<{ "QUERY PLAN": string }>`EXPLAIN SELECT id FROM customers WHERE lower(name) LIKE lower(${"acme c%"}) ESCAPE '\\'`.execute(conn);
    });
    expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/customers_name_prefix/);
  });
});

/** The rows numbered as the import numbers a file's rows (TouchOccurrences). */
const numbered = (rows: ImportedTouch[]): ImportedTouch[] => {
  const occurrences = new TouchOccurrences();
  for (const row of rows) occurrences.number(row);
  return rows;
};

describe("the touches bulk writer", () => {
  it("writes the nth identical row while fewer than n imported touches with its content are stored, and records what it inserted", async () => {
    const ledger = new ImportLedger();
    const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger });
    const [a, b] = ids as [number, number];
    try {
      // Two identical calls in one file (occurrences 1 and 2) are two touches.
      const first = await writer.write(
        numbered(
          rowsOf([
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW - 1000, "call", "hi", "U1"],
            [b, NOW - 2000, "email", null, null],
          ]),
        ),
      );
      expect(first).toEqual({ inserted: 4, unchanged: 0, fresh: [true, true, true, true] });
      // The same file again adds nothing; a third identical call does.
      const again = await writer.write(
        numbered(
          rowsOf([
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW - 1000, "call", "hi", null],
            [b, NOW - 3000, "email", null, null],
          ]),
        ),
      );
      expect(again).toEqual({ inserted: 2, unchanged: 2, fresh: [false, false, true, true] });
    } finally {
      await writer.close();
    }
    expect(await touchCount()).toBe(6);
    await store.db.insertInto("touchpoints").values({ customer_id: a, kind: "visit", occurred_at: NOW, logged_at: NOW, source: "cli" }).execute();
    await undoImport(store.db, ledger);
    expect(await store.db.selectFrom("touchpoints").select(["kind", "source"]).execute()).toEqual([{ kind: "visit", source: "cli" }]);
  });

  it("decides by external id alone when a touch has one: a stored id or an earlier one in the batch is a duplicate, identical content is not", async () => {
    const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger: new ImportLedger() });
    const [a] = ids as [number];
    const withId = (externalId: string | null, note: string): ImportedTouch => ({
      customerId: a,
      occurredAt: NOW - 1000,
      kind: "call",
      note,
      loggedBy: null,
      externalId,
    });
    try {
      expect(await writer.write([withId("E-1", "same"), withId("E-2", "same"), withId("E-1", "other"), withId(null, "same")])).toEqual({
        inserted: 3,
        unchanged: 1,
        fresh: [true, true, false, true],
      });
      expect(await writer.write([withId("E-2", "changed"), withId("E-3", "same"), withId(null, "same")])).toEqual({
        inserted: 1,
        unchanged: 2,
        fresh: [false, true, false],
      });
    } finally {
      await writer.close();
    }
    const stored = await store.db.selectFrom("touchpoints").select(["external_id", "note"]).orderBy("id").execute();
    expect(stored).toEqual([
      { external_id: "E-1", note: "same" },
      { external_id: "E-2", note: "same" },
      { external_id: null, note: "same" },
      { external_id: "E-3", note: "same" },
    ]);
  });

  it("writes nothing in a dry run, and counts what it would write", async () => {
    const ledger = new ImportLedger();
    const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger, dryRun: true });
    const [a] = ids as [number];
    try {
      expect(
        await writer.write(
          rowsOf([
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW - 1000, "call", "hi", null],
            [a, NOW, "email", null, null],
          ]).map((row, i) => ({ ...row, occurrence: i === 1 ? 2 : 1 })),
        ),
      ).toEqual({
        inserted: 3,
        unchanged: 0,
        fresh: [true, true, true],
      });
    } finally {
      await writer.close();
    }
    expect(await touchCount()).toBe(0);
    expect(ledger.idRuns("touchpoints")).toEqual([]);
  });

  it.skipIf(TEST_ENGINE !== "postgres")(
    "on PostgreSQL, numbers a batch's new touches in its order, and refuses a batch naming a missing customer, writing none of it",
    async () => {
      const [a, b] = ids as [number, number];
      const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger: new ImportLedger() });
      try {
        await writer.write(
          rowsOf([
            [b, NOW - 1, "call", "first", null],
            [a, NOW - 2, "call", "second", null],
            [b, NOW - 3, "call", "third", null],
          ]),
        );
        const written = await store.db.selectFrom("touchpoints").select("note").orderBy("id").execute();
        expect(written.map((row) => row.note)).toEqual(["first", "second", "third"]);
        const missing = Math.max(...ids) + 1000;
        await expect(
          writer.write(
            rowsOf([
              [a, NOW - 4, "call", "fourth", null],
              [missing, NOW - 5, "call", "nobody's", null],
            ]),
          ),
        ).rejects.toThrow();
      } finally {
        await writer.close();
      }
      expect(await touchCount()).toBe(3);
    },
  );

  it("writes a batch of many customers in its order, then only its new rows beside stored ones at the same instants, and external ids once", async () => {
    const many = await insertCustomers(
      store.db,
      Array.from({ length: 24 }, (_, i) => ({
        external_id: `M-${i}`,
        name: `Many ${i}`,
        loyalty_member: 0,
        attributes: "{}",
        created_at: NOW,
        updated_at: NOW,
      })),
    );
    const first = rowsOf(
      many.flatMap(
        (customer, i): Array<[number, number, string, string | null, string | null]> => [
          [customer, NOW - i * 1000, "call", `a${i}`, null],
          [customer, NOW - i * 1000 - 1, "email", `b${i}`, "U1"],
        ],
      ),
    );
    const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger: new ImportLedger() });
    // `within` gets the highest touch id before each write.
    const afters: number[] = [];
    const highest: number[] = [];
    const within = async (_trx: unknown, after: number) => {
      afters.push(after);
    };
    const written = async () => {
      highest.push(Number((await sql<{ id: number }>`SELECT coalesce(max(id), 0) AS id FROM touchpoints`.execute(store.db)).rows[0]?.id));
    };
    try {
      expect(await writer.write(first, within)).toMatchObject({ inserted: 48, unchanged: 0 });
      await written();
      const notes = async () => (await store.db.selectFrom("touchpoints").select(["id", "note"]).orderBy("id").execute()).map((row) => row.note);
      expect(await notes()).toEqual(first.map((row) => row.note));
      // The same rows again, with touches at five of their instants that differ in content, and two new ones.
      const beside = first.slice(0, 5).map((row) => ({ ...row, note: `${row.note} again` }));
      const fresh = rowsOf([
        [many[3] as number, NOW - 7, "meeting", "new one", null],
        [many[20] as number, NOW - 8, "meeting", "new two", null],
      ]);
      const second = [...first.slice(0, 10), beside[0], ...first.slice(10), ...beside.slice(1), ...fresh] as ImportedTouch[];
      const result = await writer.write(second, within);
      expect(result).toMatchObject({ inserted: 7, unchanged: 48 });
      await written();
      expect(result.fresh).toEqual(second.map((row) => row.note?.endsWith(" again") === true || row.note?.startsWith("new") === true));
      expect((await notes()).slice(48)).toEqual(second.filter((_, i) => result.fresh[i]).map((row) => row.note));
      const external = many.map((customer, i) => ({ ...(first[i * 2] as ImportedTouch), customerId: customer, note: `x${i}`, externalId: `E-${i}` }));
      expect(await writer.write([...external, { ...(external[0] as ImportedTouch), note: "repeat" }], within)).toMatchObject({ inserted: 24, unchanged: 1 });
      expect(await writer.write(external, within)).toMatchObject({ inserted: 0, unchanged: 24 });
      expect(afters.slice(0, 3)).toEqual([0, ...highest]);
    } finally {
      await writer.close();
    }
    expect(await touchCount()).toBe(48 + 7 + 24);
  });

  it.skipIf(TEST_ENGINE !== "sqlite")("hands the SQLite connection back with foreign keys on and its page cache as it was", async () => {
    const driver = driverOf(store);
    if (driver.engine !== "sqlite") return;
    const { sqlite } = driver;
    const before = [sqlite.pragma("foreign_keys", { simple: true }), sqlite.pragma("cache_size", { simple: true })];
    const writer = await openBulkTouchWriter(store, { loggedAt: NOW, ledger: new ImportLedger() });
    expect(sqlite.pragma("foreign_keys", { simple: true })).toBe(0);
    await expect(writer.write(rowsOf([[ids[0] as number, NOW, "call", "x", null]]))).resolves.toEqual({ inserted: 1, unchanged: 0, fresh: [true] });
    await writer.close();
    expect([sqlite.pragma("foreign_keys", { simple: true }), sqlite.pragma("cache_size", { simple: true }), sqlite.inTransaction]).toEqual([...before, false]);
  });

  it.skipIf(TEST_ENGINE !== "postgres")(
    "lets other customers' batches and single touches write while an import's batch is open, and holds its customers' until its commit",
    async () => {
      const customers = await insertCustomers(
        store.db,
        Array.from({ length: 40 }, (_, i) => ({
          external_id: `L-${i}`,
          name: `Locked ${i}`,
          loyalty_member: 0,
          attributes: "{}",
          created_at: NOW,
          updated_at: NOW,
        })),
      );
      // Twenty customers each: more than a few customers' write, so each goes the batch way; all in one block of ids.
      const batchOf = (group: number[]) => rowsOf(group.map((customer, i) => [customer, NOW - i * 1000, "call", `n${i}`, null]));
      const first = batchOf(customers.slice(0, 20));
      const other = batchOf(customers.slice(20));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const writer = () => openBulkTouchWriter(store, { loggedAt: NOW, ledger: new ImportLedger() });
      const held = (await writer()).write(first, async () => {
        entered();
        await gate;
      });
      await inside;
      try {
        const tooLong = new Promise<string>((resolve) => setTimeout(() => resolve("waited"), 5000));
        expect(await Promise.race([(await writer()).write(other).then((result) => result.inserted), tooLong])).toBe(20);
        // A single touch (as /touch writes it) of another customer of the block goes at once too.
        const single = rowsOf([[customers[30] as number, NOW - 5, "visit", null, null]]);
        expect(await Promise.race([(await writer()).write(single).then((result) => result.inserted), tooLong])).toBe(1);
        const settled: string[] = [];
        const same = (await writer()).write(first).then((result) => {
          settled.push("batch");
          return result;
        });
        const one = (await writer()).write(first.slice(3, 4)).then((result) => {
          settled.push("single");
          return result;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toEqual([]);
        release();
        expect(await held).toMatchObject({ inserted: 20, unchanged: 0 });
        // They waited for the commit, and so found their rows stored.
        expect(await same).toMatchObject({ inserted: 0, unchanged: 20 });
        expect(await one).toMatchObject({ inserted: 0, unchanged: 1 });
      } finally {
        release();
        await held.catch(() => undefined);
      }
      expect(await touchCount()).toBe(41);
    },
  );
});
