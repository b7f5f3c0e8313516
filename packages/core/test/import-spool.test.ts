import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/demo-data";
import { CheckedRows, type RowCodec, Spool } from "../src/import/spool";

interface Row {
  n: number;
  text: string | null;
}

const codec: RowCodec<Row> = {
  bytes: (row) => 8 + Spool.textBytes(row.text),
  write(spool, row) {
    spool.number(row.n);
    spool.text(row.text);
  },
  read: (reader) => ({ n: reader.number(), text: reader.text() }),
};

async function roundTrip(rows: Row[], partitions = 1): Promise<Row[]> {
  const checked = new CheckedRows(codec, { partitions, partitionOf: (row) => row.n % partitions });
  try {
    for (const row of rows) checked.add(row);
    const back: Row[] = [];
    await checked.inBatches(7, async (batch) => {
      back.push(...batch);
    });
    return back;
  } finally {
    checked.close();
  }
}

describe("import spool", () => {
  it("gives back every text exactly as added: empty, null, ASCII, accented, emoji, lone surrogates, long", async () => {
    const texts = [
      "",
      null,
      "U00000007",
      'asked about "pro" pricing, sent deck',
      "Müller & Söhne",
      "réunion trimestrielle",
      "ok 👍",
      "\ud800 lone",
      "x".repeat(64),
      "y".repeat(65),
      `${"é".repeat(40)}`,
      "z".repeat(5000),
      "follow-up\non onboarding",
      "\u007f\u0080",
    ];
    const rows = texts.map((text, n) => ({ n, text }));
    const back = await roundTrip(rows);
    // A lone surrogate is written as U+FFFD, as Buffer#write does.
    expect(back).toEqual(rows.map((row) => ({ ...row, text: row.text === null ? null : Buffer.from(row.text, "utf8").toString("utf8") })));
  });

  it("gives back repeated and colliding short texts unmixed, in each partition's order", async () => {
    const random = seededRandom(11);
    const alphabet = "abAB01 é";
    const rows: Row[] = [];
    for (let n = 0; n < 20_000; n++) {
      const length = Math.floor(random() * 6);
      let text = "";
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      rows.push({ n, text: random() < 0.1 ? null : text });
    }
    const back = await roundTrip(rows, 4);
    const expected = [0, 1, 2, 3].flatMap((partition) => rows.filter((row) => row.n % 4 === partition));
    expect(back).toEqual(expected);
  });
});

describe("import spool batches", () => {
  /** The batches of `rows` (partition = n's tens) handed over 10 at a time, `parallel` at once. */
  async function batchesOf(rows: number[], parallel: number): Promise<number[][]> {
    const checked = new CheckedRows(codec, { partitions: 10, partitionOf: (row) => Math.floor(row.n / 10) });
    try {
      for (const n of rows) checked.add({ n, text: null });
      const batches: number[][] = [];
      await checked.inBatches(
        10,
        async (batch) => {
          batches.push(batch.map((row) => row.n));
        },
        parallel,
      );
      return batches;
    } finally {
      checked.close();
    }
  }
  // Partitions of 4, 4, 3, 12 and 2 rows.
  const rows = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, ...Array.from({ length: 12 }, (_, i) => 30 + (i % 10)), 40, 41];

  it("cuts batches run side by side where a partition ends, so that two never share a partition below a batch's size", async () => {
    const batches = await batchesOf(rows, 2);
    expect(batches.map((batch) => batch.length)).toEqual([8, 3, 10, 4]);
    expect(batches.flat()).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, ...rows.slice(11, 21), ...rows.slice(21)]);
  });

  it("fills every batch one at a time, across partitions", async () => {
    const batches = await batchesOf(rows, 1);
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(rows);
  });
});
