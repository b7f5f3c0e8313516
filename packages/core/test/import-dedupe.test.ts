import { findCustomerByExternalId, insertTouch, writeTransaction } from "@keepwarm/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCsv } from "../src/index";
import { daysBefore, freshIngestStore, type IngestFixture, iso, NOW } from "./ingest-fixtures";

let fx: IngestFixture;
beforeEach(async () => {
  fx = await freshIngestStore();
  const customers = ["id,name", ...Array.from({ length: 20 }, (_, i) => `C-${i + 1},Customer ${i + 1}`)];
  expect(await importCsv(fx.store, "customers", csvFile("customers.csv", customers), { now: daysBefore(300) })).toMatchObject({
    committed: true,
    inserted: 20,
  });
});
afterEach(() => fx.close());

const csvFile = (name: string, lines: string[]): string => fx.csv(name, lines, "\n");
const touches = () =>
  fx.store.db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select(["c.external_id as customer", "t.occurred_at as at", "t.kind", "t.note", "t.logged_by as loggedBy"])
    .orderBy("t.id")
    .execute();
const customerRowId = async (externalId: string) => (await findCustomerByExternalId(fx.store.db, externalId))?.id as number;
/** A touch stored as `source` stored it (a previous import by default). */
const plantTouch = async (customer: string, at: number, kind: string, note: string | null, source = "import") =>
  insertTouch(fx.store.db, { customer_id: await customerRowId(customer), kind, occurred_at: at, logged_at: NOW, logged_by: null, note, source });

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
    // Identical rows in one file are distinct events: the repeats are stored too.
    expect(first).toMatchObject({ committed: true, rows: 308, inserted: 308, unchanged: 0, invalid: [] });
    const stored = await touches();
    expect(stored).toHaveLength(308);
    expect(stored.filter((t) => t.customer === "C-1" && t.at === Date.parse(same)).map((t) => `${t.kind}|${t.note}|${t.loggedBy}`)).toEqual([
      "call|first|null",
      "call|second|null",
      "email|first|null",
      "call|null|null",
      "call|null|U0000001",
      "call|first|null",
      "call|null|null",
    ]);

    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 308 });
    expect(await touches()).toEqual(stored);

    // A later export that repeats most of the old rows and adds a few: only the new ones land.
    const later = [...lines.slice(0, 200), `C-3,${iso(daysBefore(1))},visit,new one,`, ...lines.slice(200), `C-4,${iso(daysBefore(1))},chat,,`];
    expect(await importCsv(fx.store, "touches", csvFile("later.csv", later), { now: NOW })).toMatchObject({ committed: true, inserted: 2, unchanged: 308 });
    expect(await touches()).toHaveLength(310);
  });

  it("hands the connection back with foreign keys enforced and no transaction open, committed or not", async () => {
    const good = csvFile("good.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(1))}`]);
    const bad = csvFile("bad.csv", ["customer_id,occurred_at", "C-404,2026-01-01"]);
    expect(await importCsv(fx.store, "touches", good, { now: NOW })).toMatchObject({ committed: true });
    expect(await importCsv(fx.store, "touches", bad, { now: NOW })).toMatchObject({ committed: false });
    // A touch of a customer that does not exist is refused: foreign keys are on again.
    const orphan = { customer_id: 999_999, kind: "call", occurred_at: NOW, logged_at: NOW, logged_by: null, note: null, source: "cli" };
    await expect(writeTransaction(fx.store.db, (trx) => insertTouch(trx, orphan))).rejects.toThrow(/foreign key/i);
  });
});

describe("identical rows inside one file", () => {
  it("two identical touches in one file are two touches, and importing the file again adds neither", async () => {
    const at = iso(daysBefore(4));
    const file = csvFile("twice.csv", ["customer_id,occurred_at,kind,note", `C-1,${at},call,hello`, `C-2,${at},call,hello`, ` C-1 ,${at},Call,  hello `]);
    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 3, unchanged: 0 });
    expect((await touches()).map((t) => t.customer)).toEqual(["C-1", "C-1", "C-2"]);
    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 3 });
    // A later export with a third identical call adds that one only.
    const later = csvFile("later.csv", ["customer_id,occurred_at,kind,note", ...Array.from({ length: 3 }, () => `C-1,${at},call,hello`)]);
    expect(await importCsv(fx.store, "touches", later, { now: NOW })).toMatchObject({ committed: true, inserted: 1, unchanged: 2 });
    expect(await touches()).toHaveLength(4);
  });

  it("counts repeats across write batches: the second of two identical rows in another batch is still a touch", async () => {
    const at = iso(daysBefore(2));
    const lines = [
      "customer_id,occurred_at,kind,note",
      `C-5,${at},call,same`,
      ...Array.from({ length: 7 }, (_, i) => `C-6,${iso(daysBefore(3) + i)},email,x`),
      `C-5,${at},call,same`,
    ];
    const file = csvFile("batches.csv", lines);
    expect(await importCsv(fx.store, "touches", file, { now: NOW, batchRows: 3 })).toMatchObject({ committed: true, inserted: 9, unchanged: 0 });
    expect(await importCsv(fx.store, "touches", file, { now: NOW, batchRows: 3 })).toMatchObject({ committed: true, inserted: 0, unchanged: 9 });
  });

  it("finds an identical touch another import stored between two of its batches, beside its own earlier rows", async () => {
    const at = iso(daysBefore(2));
    const other = (i: number) => `C-5,${iso(daysBefore(3) + i)},email,x`;
    const lines = [
      "customer_id,occurred_at,kind,note",
      `C-5,${at},call,same`,
      other(1),
      other(2),
      other(3),
      other(4),
      other(5),
      `C-5,${at},call,same`,
      `C-5,${at},call,same`,
      other(6),
    ];
    let planted = false;
    const report = await importCsv(fx.store, "touches", csvFile("between.csv", lines), {
      now: NOW,
      batchRows: 3,
      afterBatch: async () => {
        if (planted) return;
        planted = true;
        // Stored by another import after the first batch: with this import's own first copy, two are stored
        // when the third batch comes, so the file's second copy is present and its third is new.
        await plantTouch("C-5", Date.parse(at), "call", "same");
      },
    });
    expect(report).toMatchObject({ committed: true, inserted: 8, unchanged: 1 });
    expect((await touches()).filter((t) => t.note === "same")).toHaveLength(3);
  });

  it("with batches of many customers, finds an identical touch another import stored between them, and counts its own earlier rows", async () => {
    const more = ["id,name", ...Array.from({ length: 40 }, (_, i) => `C-${i + 21},Customer ${i + 21}`)];
    expect(await importCsv(fx.store, "customers", csvFile("more.csv", more), { now: daysBefore(300) })).toMatchObject({ inserted: 40 });
    const at = iso(daysBefore(2));
    const lines = ["customer_id,occurred_at,kind,note"];
    // Two rows per customer; C-25's five straddle the first two batches of 50 rows (more than a few customers each).
    for (let c = 1; c <= 60; c++) {
      if (c === 25)
        lines.push(
          `C-25,${at},call,same`,
          `C-25,${iso(daysBefore(3))},email,x`,
          `C-25,${iso(daysBefore(4))},email,y`,
          `C-25,${at},call,same`,
          `C-25,${at},call,same`,
        );
      else lines.push(`C-${c},${iso(daysBefore(3) + c)},email,a`, `C-${c},${iso(daysBefore(5) + c)},meeting,b`);
    }
    const file = csvFile("many.csv", lines);
    let planted = false;
    const report = await importCsv(fx.store, "touches", file, {
      now: NOW,
      batchRows: 50,
      afterBatch: async () => {
        if (planted) return;
        planted = true;
        await plantTouch("C-25", Date.parse(at), "call", "same");
      },
    });
    // The file's second "same" finds the planted one beside its own first: present; its third is new.
    expect(report).toMatchObject({ committed: true, rows: 123, inserted: 122, unchanged: 1 });
    expect((await touches()).filter((t) => t.note === "same")).toHaveLength(3);
    expect(await importCsv(fx.store, "touches", file, { now: NOW, batchRows: 50 })).toMatchObject({ committed: true, inserted: 0, unchanged: 123 });
  });

  it("queues for evaluation the customers it wrote a touch for, not those whose rows were all present", async () => {
    const queued = async () =>
      (
        await fx.store.db
          .selectFrom("evaluation_queue as q")
          .innerJoin("customers as c", "c.id", "q.customer_id")
          .select("c.external_id")
          .orderBy("c.external_id")
          .execute()
      ).map((row) => row.external_id);
    const header = "customer_id,occurred_at,kind,note";
    const old = [`C-1,${iso(daysBefore(3))},call,a`, `C-2,${iso(daysBefore(4))},email,b`, `C-2,${iso(daysBefore(4))},email,b`];
    await fx.store.db.deleteFrom("evaluation_queue").execute();
    expect(await importCsv(fx.store, "touches", csvFile("first.csv", [header, ...old]), { now: NOW })).toMatchObject({ inserted: 3 });
    expect(await queued()).toEqual(["C-1", "C-2"]);
    await fx.store.db.deleteFrom("evaluation_queue").execute();
    const later = [header, ...old, `C-3,${iso(daysBefore(1))},visit,c`];
    expect(await importCsv(fx.store, "touches", csvFile("later.csv", later), { now: NOW })).toMatchObject({ inserted: 1, unchanged: 3 });
    expect(await queued()).toEqual(["C-3"]);
  });

  it("a dry run lists sample rows of what it would create and what is already present", async () => {
    const at = iso(daysBefore(4));
    const header = "customer_id,occurred_at,kind,note";
    await importCsv(fx.store, "touches", csvFile("old.csv", [header, `C-1,${at},call,hello`]), { now: NOW });
    const file = csvFile("dry.csv", [header, `C-1,${at},call,hello`, `C-1,${at},call,hello`, `C-2,${at},visit,`]);
    const report = await importCsv(fx.store, "touches", file, { now: NOW, dryRun: true });
    expect(report).toMatchObject({ committed: false, dryRun: true, inserted: 2, unchanged: 1 });
    expect(report.samples).toEqual({
      inserted: [`C-1 ${at.replace(".000Z", "Z")} call "hello"`, `C-2 ${at.replace(".000Z", "Z")} visit`],
      updated: [],
      unchanged: [`C-1 ${at.replace(".000Z", "Z")} call "hello"`],
    });
    expect(await touches()).toHaveLength(1);
  });
});

describe("the dedupe key is the exact content, so no two different touches collide", () => {
  const at = daysBefore(3);
  const filler = (n: number, word: string) => Array.from({ length: n }, (_, i) => `C-2,${iso(daysBefore(5) + i)},email,${word} ${i},`);
  // Same customer, same millisecond, each differing from the first in one field only.
  const variants = ["C-1,{at},call,the note,", "C-1,{at},email,the note,", "C-1,{at},call,the note!,", "C-1,{at},call,,", "C-1,{at},call,the note,U0000001"];

  for (const [path, fill] of [
    ["rows in the last, partial batch", 0],
    ["rows inside full 64-row batches, split across two of them", 124],
  ] as const) {
    it(`keeps every near-identical touch and finds each again on re-import: ${path}`, async () => {
      const rows = variants.map((v) => v.replace("{at}", iso(at)));
      // The planted touch is what a previous import of the first variant stored.
      await plantTouch("C-1", at, "call", "the note");
      const file = csvFile("touches.csv", ["customer_id,occurred_at,kind,note,logged_by", ...filler(fill / 2, "filler"), ...rows, ...filler(fill / 2, "more")]);

      expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 4 + fill, unchanged: 1 });
      const atInstant = async () => (await touches()).filter((t) => t.customer === "C-1" && t.at === at).map((t) => `${t.kind}|${t.note}|${t.loggedBy}`);
      expect(await atInstant()).toEqual(["call|the note|null", "email|the note|null", "call|the note!|null", "call|null|null", "call|the note|U0000001"]);

      expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 5 + fill });
      expect(await atInstant()).toHaveLength(5);
    });
  }

  it("a stored touch with the same content that was not imported (logged in Slack) does not hide an imported one", async () => {
    await plantTouch("C-1", at, "call", "x", "slack");
    const file = csvFile("t.csv", ["customer_id,occurred_at,kind,note,logged_by", `C-1,${iso(at)},call,x,`]);
    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ inserted: 1 });
    expect(await importCsv(fx.store, "touches", file, { now: NOW })).toMatchObject({ inserted: 0, unchanged: 1 });
    expect(await touches()).toHaveLength(2);
  });
});
