import { findCustomerByExternalId, insertWebhook, openStore } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCsv, ingestItems, logTouch, UserError } from "../src/index";
import { countRows, daysBefore, freshIngestStore, type IngestFixture, iso, NOW, nudgeStatuses } from "./ingest-fixtures";
import { sweepAt } from "./sweep-fixtures";

let fx: IngestFixture;
beforeEach(async () => {
  fx = await freshIngestStore();
});
afterEach(() => fx.close());

const csvFile = (name: string, lines: string[]): string => fx.csv(name, lines);
const count = (table: Parameters<typeof countRows>[1]) => countRows(fx.store, table);
const seedCustomers = async () => {
  const report = await importCsv(
    fx.store,
    "customers",
    csvFile("customers.csv", ["id,name,segment,since", `C-1,Acme,smb,${iso(daysBefore(400))}`, `C-2,Globex,smb,${iso(daysBefore(400))}`]),
    { now: daysBefore(300) },
  );
  expect(report).toMatchObject({ committed: true, inserted: 2 });
};

describe("importCsv", () => {
  it("re-importing the same touches, NPS and purchases adds nothing twice", async () => {
    await seedCustomers();
    const files = {
      touches: csvFile("touches.csv", [
        "customer_id,occurred_at,kind,note",
        `C-1,${iso(daysBefore(3))},call,"hello, again"`,
        `C-2,${iso(daysBefore(2))},email,`,
      ]),
      nps: csvFile("nps.csv", ["customer_id,responded_at,score,comment", `C-1,${iso(daysBefore(5))},9,`, `C-1,${iso(daysBefore(1))},4,slow support`]),
      purchases: csvFile("purchases.csv", ["customer_id,occurred_at,amount", `C-2,${iso(daysBefore(4))},$19.99`, `C-2,${iso(daysBefore(3))},5`]),
    } as const;
    for (const [kind, file] of Object.entries(files) as Array<[keyof typeof files, string]>) {
      expect(await importCsv(fx.store, kind, file, { now: NOW })).toMatchObject({ committed: true, inserted: 2, unchanged: 0 });
      expect(await importCsv(fx.store, kind, file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 2 });
    }
    expect([await count("touchpoints"), await count("nps_responses"), await count("purchases")]).toEqual([2, 2, 2]);
    const spent = await fx.store.db
      .selectFrom("purchases")
      .select((eb) => eb.fn.sum<number>("amount_cents").as("cents"))
      .executeTakeFirstOrThrow();
    expect(Number(spent.cents)).toBe(2499);
  });

  it("re-importing customers updates changed fields in place and never duplicates", async () => {
    await seedCustomers();
    const changed = csvFile("changed.csv", ["id,name,segment", "C-1,Acme Corp,enterprise", "C-2,Globex,smb"]);
    expect(await importCsv(fx.store, "customers", changed, { now: NOW })).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    expect(await fx.store.db.selectFrom("customers").select(["external_id", "name", "segment"]).orderBy("id").execute()).toEqual([
      { external_id: "C-1", name: "Acme Corp", segment: "enterprise" },
      { external_id: "C-2", name: "Globex", segment: "smb" },
    ]);
  });

  it("numbers a bad row by its physical line, after a quoted field spanning lines", async () => {
    await seedCustomers();
    const file = csvFile("touches.csv", [
      "customer_id,occurred_at,note",
      `C-1,${iso(daysBefore(1))},"first line`,
      'second, line"',
      "C-1,yesterday-ish,x",
      `C-2,${iso(daysBefore(1))}`,
    ]);
    const report = await importCsv(fx.store, "touches", file, { now: NOW });
    expect(report.committed).toBe(false);
    expect(report.invalid).toEqual([
      { file, line: 4, message: 'occurred_at: "yesterday-ish" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])' },
      { file, line: 5, message: "has 2 fields, the header has 3" },
    ]);
    expect(await count("touchpoints")).toBe(0);
  });

  it("reports each bad value: bad date, score 11, unknown customer, bad boolean, future touch", async () => {
    await seedCustomers();
    const nps = await importCsv(
      fx.store,
      "nps",
      csvFile("nps.csv", [
        "customer_id,responded_at,score",
        `C-1,2026-13-01,5`,
        `C-1,${iso(daysBefore(1))},11`,
        `C-9,${iso(daysBefore(1))},5`,
        `C-1,${iso(daysBefore(1))},-1`,
      ]),
      { now: NOW },
    );
    expect(nps.invalid.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '2: responded_at: "2026-13-01" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])',
      '3: score: "11" is not a whole number from 0 to 10',
      '4: unknown customer "C-9" (import customers first)',
      '5: score: "-1" is not a whole number from 0 to 10',
    ]);
    const customers = await importCsv(fx.store, "customers", csvFile("c.csv", ["id,name,loyalty_member", "C-3,Initech,maybe", ",Nameless,no"]), { now: NOW });
    expect(customers.invalid.map((e) => `${e.line}: ${e.message}`)).toEqual(['2: loyalty_member: "maybe" is not true/false/yes/no/1/0', "3: id is empty"]);
    const touches = await importCsv(
      fx.store,
      "touches",
      csvFile("t.csv", ["customer_id,occurred_at,kind", `C-1,${iso(NOW + 3_600_000)},call`, `C-1,${iso(daysBefore(1))},fax`]),
      { now: NOW },
    );
    expect(touches.invalid.map((e) => e.line)).toEqual([2, 3]);
    expect(touches.invalid[1]?.message).toMatch(/^kind must be one of call, email, meeting, visit, chat, other/);
    expect([await count("nps_responses"), await count("customers"), await count("touchpoints")]).toEqual([0, 2, 0]);
  });

  it("rejects a file-level problem as one UserError: missing column, unknown column, duplicate column, malformed CSV", async () => {
    const cases: Array<[string, string[], RegExp]> = [
      [
        "customers",
        ["identifier,name", "C-1,Acme"],
        /customers\.csv: line 1: missing required column "id" \(map one with --map "HEADER=id"\); the file's columns are "identifier", "name"$/,
      ],
      ["touches", ["customer_id,occured_at", "C-1,2026-01-01"], /touches\.csv: line 1: missing required column "occurred_at" \(did you mean "occured_at"\?/],
      ["nps", ["customer_id,score,Score,responded_at"], /nps\.csv: line 1: columns "score" and "Score" both fill "score"$/],
      ["customers", ["id,name", 'C-1,"Acme'], /: line \d+: malformed CSV/],
      ["customers", ["id,name", "C-1,Acme", 'C-2,O\'Brien "Bob" Ltd'], /: line 3: malformed CSV \(a quote is found on field 1/],
    ];
    for (const [kind, lines, pattern] of cases) {
      const attempt = importCsv(fx.store, kind as "customers", csvFile(`${kind}.csv`, lines), { now: NOW });
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(importCsv(fx.store, kind as "customers", csvFile(`${kind}.csv`, lines), { now: NOW })).rejects.toThrow(pattern);
    }
    expect(await count("customers")).toBe(0);
  });

  it("a touches import resolves the nudges it answers; an old touch imported late does not", async () => {
    await seedCustomers();
    await importCsv(fx.store, "touches", csvFile("old.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(40))}`, `C-2,${iso(daysBefore(40))}`]), {
      now: daysBefore(39),
    });
    expect((await sweepAt(fx.store, NOW)).created).toBe(2);
    const late = csvFile("late.csv", ["customer_id,occurred_at,kind", `C-1,${iso(daysBefore(1))},call`, `C-2,${iso(daysBefore(45))},call`]);
    expect(await importCsv(fx.store, "touches", late, { now: NOW })).toMatchObject({ committed: true, inserted: 2, resolvedNudges: 1 });
    expect(await nudgeStatuses(fx.store)).toEqual(["C-1 resolved", "C-2 open"]);
  });

  it("a failed (all-or-nothing) touches import resolves nothing", async () => {
    await seedCustomers();
    await importCsv(fx.store, "touches", csvFile("old.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(40))}`]), { now: daysBefore(39) });
    await sweepAt(fx.store, NOW);
    const mixed = csvFile("mixed.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(1))}`, "C-404,2026-01-01"]);
    expect(await importCsv(fx.store, "touches", mixed, { now: NOW })).toMatchObject({ committed: false, resolvedNudges: 0 });
    expect((await nudgeStatuses(fx.store)).filter((n) => n.startsWith("C-1 "))).toEqual(["C-1 open"]);
    expect(await importCsv(fx.store, "touches", mixed, { now: NOW, skipInvalid: true })).toMatchObject({ committed: true, inserted: 1, resolvedNudges: 1 });
  });
});

describe("importCsv writes in short transactions and stays all or nothing", () => {
  const touchLines = (rows: number) => [
    "customer_id,occurred_at,kind,note",
    ...Array.from({ length: rows }, (_, i) => `C-${1 + (i % 2)},${iso(daysBefore(2) + i * 1000)},call,row ${i}`),
  ];

  it("a write that fails midway takes back every row the import wrote, and only those", async () => {
    await seedCustomers();
    const other = await openStore(fx.location);
    try {
      const attempt = importCsv(fx.store, "touches", csvFile("t.csv", touchLines(25)), {
        now: NOW,
        batchRows: 10,
        afterBatch: async (batch) => {
          // Another process logs a touch between the import's batches; then the import fails.
          if (batch === 1) await logTouch(other, { customerId: 1, kind: "email", occurredAt: daysBefore(1), source: "cli", now: NOW });
          if (batch === 2) throw new Error("disk full (injected)");
        },
      });
      await expect(attempt).rejects.toThrow("disk full (injected)");
    } finally {
      await other.close();
    }
    const left = await fx.store.db.selectFrom("touchpoints").select(["source", "kind"]).execute();
    expect(left).toEqual([{ source: "cli", kind: "email" }]);
  });

  it("takes back NPS responses, purchases and customers the same way (updated customers get their old values back)", async () => {
    await seedCustomers();
    const fail = (after: number) => ({
      now: NOW,
      batchRows: 3,
      afterBatch: (batch: number) => {
        if (batch === after) throw new Error("connection lost (injected)");
      },
    });
    const nps = ["customer_id,responded_at,score", ...Array.from({ length: 8 }, (_, i) => `C-1,${iso(daysBefore(10) + i * 1000)},${i}`)];
    await expect(importCsv(fx.store, "nps", csvFile("n.csv", nps), fail(2))).rejects.toThrow("connection lost");
    const purchases = ["customer_id,occurred_at,amount", ...Array.from({ length: 8 }, (_, i) => `C-2,${iso(daysBefore(10) + i * 1000)},${i + 1}`)];
    await expect(importCsv(fx.store, "purchases", csvFile("p.csv", purchases), fail(2))).rejects.toThrow("connection lost");
    const customers = ["id,name,segment", "C-1,Acme Renamed,enterprise", ...Array.from({ length: 7 }, (_, i) => `N-${i},New ${i},smb`)];
    await expect(importCsv(fx.store, "customers", csvFile("c.csv", customers), fail(2))).rejects.toThrow("connection lost");
    expect([await count("nps_responses"), await count("purchases"), await count("customers")]).toEqual([0, 0, 2]);
    expect(await fx.store.db.selectFrom("customers").select(["external_id", "name", "segment"]).orderBy("id").execute()).toEqual([
      { external_id: "C-1", name: "Acme", segment: "smb" },
      { external_id: "C-2", name: "Globex", segment: "smb" },
    ]);
  });

  it("lets another connection write between its batches, and counts every row once", async () => {
    await seedCustomers();
    const other = await openStore(fx.location);
    const waits: number[] = [];
    let report: Awaited<ReturnType<typeof importCsv>>;
    try {
      report = await importCsv(fx.store, "touches", csvFile("t.csv", touchLines(25)), {
        now: NOW,
        batchRows: 10,
        afterBatch: async () => {
          const started = performance.now();
          await logTouch(other, { customerId: 2, kind: "visit", occurredAt: daysBefore(1), source: "cli", now: NOW });
          waits.push(performance.now() - started);
        },
      });
    } finally {
      await other.close();
    }
    expect(report).toMatchObject({ committed: true, rows: 25, inserted: 25, unchanged: 0 });
    // A batch each 10 rows, or more when batches run side by side (PostgreSQL): those end at a partition's end.
    expect(waits.length).toBeGreaterThanOrEqual(3);
    // Nothing held the write lock meanwhile: no busy wait (SQLite's busy timeout is 10 s).
    expect(Math.max(...waits)).toBeLessThan(2000);
    expect(await count("touchpoints")).toBe(25 + waits.length);
  });
});

describe("ingestItems (the HTTP API's touches)", () => {
  const postTouch = (customer: string, days: number) =>
    ingestItems(fx.store, "touches", [{ customer_id: customer, occurred_at: iso(daysBefore(days)), kind: "call" }], { now: NOW });
  const queueSeq = async (customer: string) => {
    const id = (await findCustomerByExternalId(fx.store.db, customer))?.id ?? -1;
    return Number((await fx.store.db.selectFrom("evaluation_queue").select("seq").where("customer_id", "=", id).executeTakeFirst())?.seq ?? 0);
  };
  const touchEvents = async () =>
    (await fx.store.db.selectFrom("webhook_events").select("payload").where("type", "=", "touch.created").orderBy("id").execute()).map(
      (row) => (JSON.parse(row.payload) as { data: { touch: { occurred_at: string } } }).data.touch.occurred_at,
    );

  it("a single touch is stored once and queues its customer, resolves the contact nudge it answers, and reaches a touch.created webhook", async () => {
    await seedCustomers();
    await importCsv(fx.store, "touches", csvFile("old.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(40))}`, `C-2,${iso(daysBefore(40))}`]), {
      now: daysBefore(39),
    });
    expect((await sweepAt(fx.store, NOW)).created).toBe(2);
    const queued = await queueSeq("C-1");

    expect(await postTouch("C-1", 2)).toMatchObject({ committed: true, resolvedNudges: 1, counts: { created: 1 } });
    expect(await nudgeStatuses(fx.store)).toEqual(["C-1 resolved", "C-2 open"]);
    // No live nudge of C-1 left to resolve and no webhook: written alone (one statement on PostgreSQL), same answers.
    expect(await postTouch("C-1", 1)).toMatchObject({ committed: true, resolvedNudges: 0, counts: { created: 1 } });
    expect(await postTouch("C-1", 1)).toMatchObject({ committed: true, resolvedNudges: 0, counts: { created: 0, already_present: 1 } });
    expect(await queueSeq("C-1")).toBe(queued + 2);
    expect(await count("touchpoints")).toBe(4);

    await insertWebhook(fx.store.db, { url: "https://example.com/hook", events: ["touch.created"], secret: "s3cret", now: NOW });
    expect(await postTouch("C-1", 3)).toMatchObject({ committed: true, counts: { created: 1 } });
    expect(await postTouch("C-1", 3)).toMatchObject({ committed: true, counts: { already_present: 1 } });
    expect(await touchEvents()).toEqual([iso(daysBefore(3))]);
    expect(await queueSeq("C-1")).toBe(queued + 3);
    expect(await nudgeStatuses(fx.store)).toEqual(["C-1 resolved", "C-2 open"]);
  });
});
