import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { type CsvDialect, type CsvRecord, detectDialect, MalformedCsvError, readCsv } from "../src/import/csv-reader";

/** Feed `text` as UTF-8 Buffer chunks of `size` bytes (multi-byte characters get cut). */
async function readAll(text: string, size: number, seen?: (dialect: CsvDialect) => void): Promise<CsvRecord[]> {
  const bytes = Buffer.from(text, "utf8");
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const records: CsvRecord[] = [];
  for await (const batch of readCsv(chunks(), seen === undefined ? {} : { onDialect: seen })) records.push(...batch);
  return records;
}

/** csv-parse with the options importCsv used before: records, and each one's start line (its previous end + 1). */
function csvParse(text: string, delimiter = ","): CsvRecord[] {
  let previousEnd = 0;
  return (parse(text, { bom: true, info: true, relax_column_count: true, delimiter }) as unknown as Array<{ record: string[]; info: { lines: number } }>).map(
    ({ record, info }) => {
      const line = previousEnd + 1;
      previousEnd = info.lines;
      return { fields: record, line };
    },
  );
}

const TRICKY: Record<string, string> = {
  "CRLF line ends": "customer_id,occurred_at,note\r\nC-1,2026-01-01,hello\r\nC-2,2026-01-02,bye\r\n",
  "quotes doubled": 'id,name\nC-1,"say ""hi"""\nC-2,""""\nC-3,"a""b""c"\n',
  "newline inside quotes": 'id,note\nC-1,"first\nsecond\nthird"\nC-2,after\n',
  "CRLF inside quotes": 'id,note\r\nC-1,"first\r\nsecond"\r\nC-2,after\r\n',
  BOM: "\ufeffid,name\nC-1,Acme\n",
  "BOM and a quoted first header": '\ufeff"id",name\nC-1,Acme\n',
  "last line without newline": "id,name\nC-1,Acme\nC-2,Globex",
  "last line quoted without newline": 'id,name\nC-1,"Acme, Inc."',
  "empty fields": 'a,b,c\n,,\n"",,""\nx,,\n,,y\n',
  "empty lines": "a,b\n\nC-1,x\n\n",
  "commas inside quotes": 'id,note\nC-1,"a, b, c"\n"C,2","x,"\n',
  "UTF-8 and a quote right at a chunk edge": 'id,name\nC-1,"Søren & Co — Café ☕ 𝄞"\nC-2,"""quoted"""\n',
  "ragged rows": "a,b,c\n1,2\n1,2,3,4\n",
  "one column": "id\nC-1\n\nC-2\n",
  "quoted field then CRLF at the very end": 'a,b\r\n1,"2"\r\n',
};

describe("readCsv (RFC 4180) against csv-parse on the same input", () => {
  for (const [name, text] of Object.entries(TRICKY)) {
    it(`reads the same records as csv-parse: ${name}`, async () => {
      const expected = csvParse(text);
      // csv-parse counts a CRLF inside quotes as two lines; the reader counts physical lines.
      const comparable = name === "CRLF inside quotes" ? expected.map((r) => r.fields) : expected;
      for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
        const records = await readAll(text, size);
        expect(name === "CRLF inside quotes" ? records.map((r) => r.fields) : records, `chunks of ${size} bytes`).toEqual(comparable);
      }
    });
  }

  it("numbers each record by the physical line it starts on, CRLF and multi-line fields included", async () => {
    const records = await readAll('h1,h2\r\nC-1,"a\r\nb\r\nc"\r\nC-2,x\r\n"C-3\n",y\nC-4,z', 4);
    expect(records.map((r) => [r.fields[0], r.line])).toEqual([
      ["h1", 1],
      ["C-1", 2],
      ["C-2", 5],
      ["C-3\n", 6],
      ["C-4", 8],
    ]);
  });

  it("an empty file and a file of only a BOM have no records", async () => {
    expect(await readAll("", 3)).toEqual([]);
    expect(await readAll("\ufeff", 1)).toEqual([]);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ["an unterminated quote", 'id,name\nC-1,Acme\nC-2,"Globex\nmore\n', /^line 3: malformed CSV \(a quoted field is not closed/],
    ["a quote inside an unquoted field", 'id,name\nC-1,Acme\nC-2,O\'Brien "Bob" Ltd\n', /^line 3: malformed CSV \(a quote is found on field 1/],
    ["text after a closing quote", 'id,name\nC-1,"Acme" Inc\n', /^line 2: malformed CSV \(unexpected " " after the closing quote of field 1/],
    ["a stray quote on a later line of a multi-line record", 'id,note\nC-1,"a\nb",x"y\n', /^line 3: malformed CSV \(a quote is found on field 2/],
  ];
  for (const [name, text, message] of malformed) {
    it(`rejects ${name} with the line, as csv-parse rejects it`, async () => {
      expect(() => csvParse(text)).toThrow();
      for (const size of [1, 3, 1 << 20]) {
        const attempt = readAll(text, size);
        await expect(attempt).rejects.toBeInstanceOf(MalformedCsvError);
        await expect(readAll(text, size)).rejects.toThrow(message);
      }
    });
  }
});

const SPECTRUM = join(import.meta.dirname, "fixtures", "csv-spectrum");

describe("readCsv on the csv-spectrum suite (RFC 4180 cases, carried as fixtures)", () => {
  // location_coordinates.csv has quotes inside an unquoted field (37°36'37.8"N), which
  // RFC 4180 does not allow (and its .json expects another phone number than its .csv).
  const NOT_RFC_4180 = "location_coordinates.csv";
  const cases = readdirSync(SPECTRUM).filter((name) => name.endsWith(".csv") && name !== NOT_RFC_4180);
  it("carries every case of the suite", () => {
    expect(cases.length).toBe(11);
  });
  it(`refuses ${NOT_RFC_4180} as csv-parse does, naming the line`, async () => {
    const text = readFileSync(join(SPECTRUM, NOT_RFC_4180), "utf8");
    expect(() => parse(text, { bom: true, relax_column_count: true })).toThrow();
    await expect(readAll(text, 3)).rejects.toThrow(/^line 2: malformed CSV \(a quote is found on field 1/);
  });
  for (const name of cases) {
    it(`reads ${name} as csv-parse does, and as the suite expects`, async () => {
      const text = readFileSync(join(SPECTRUM, name), "utf8");
      const expected = (JSON.parse(readFileSync(join(SPECTRUM, name.replace(/\.csv$/, ".json")), "utf8")) as Array<Record<string, string>>).map((row) =>
        Object.values(row),
      );
      const theirs = (parse(text, { bom: true, relax_column_count: true }) as string[][]).slice(1);
      expect(theirs).toEqual(expected);
      for (const size of [1, 3, 1 << 20]) {
        const records = (await readAll(text, size)).map((r) => r.fields);
        expect(records.slice(1), `chunks of ${size} bytes`).toEqual(theirs);
      }
    });
  }
});

describe("readCsv dialects: the separator and line endings of real exports", () => {
  const DIALECTS: Array<[string, string, CsvDialect, string]> = [
    [
      "semicolons (Excel where the decimal mark is a comma)",
      'id;name;amount\r\nC-1;"Müller; Söhne";1,5\r\nC-2;Globex;2\r\n',
      { separator: ";", lineEnding: "CRLF" },
      ";",
    ],
    ["tabs", 'id\tname\nC-1\t"a\tb"\nC-2\tGlobex\n', { separator: "\t", lineEnding: "LF" }, "\t"],
    ["bare CR line endings (old Excel for Mac)", 'id,name\rC-1,"two\rlines"\rC-2,Globex\r', { separator: ",", lineEnding: "CR" }, ","],
    ["CR and semicolons with a BOM", '\ufeffid;note\rC-1;"x ""y"""\rC-2;', { separator: ";", lineEnding: "CR" }, ";"],
    ["a comma inside a quoted header does not count", '"Company, Inc";x;y\n1;2;3\n', { separator: ";", lineEnding: "LF" }, ";"],
  ];
  for (const [name, text, dialect, delimiter] of DIALECTS) {
    it(`detects and reads ${name} as csv-parse does`, async () => {
      expect(detectDialect(text.replace(/^\ufeff/, ""))).toEqual(dialect);
      const expected = csvParse(text, delimiter).map((r) => r.fields);
      for (const size of [1, 2, 5, 1 << 20]) {
        let seen: CsvDialect | undefined;
        const records = await readAll(text, size, (d) => {
          seen = d;
        });
        expect(
          records.map((r) => r.fields),
          `chunks of ${size} bytes`,
        ).toEqual(expected);
        expect(seen).toEqual(dialect);
      }
    });
  }

  it("numbers records by physical line in a CR file", async () => {
    const records = await readAll('h\rC-1\r"a\rb"\rC-2', 2);
    expect(records.map((r) => [r.fields[0], r.line])).toEqual([
      ["h", 1],
      ["C-1", 2],
      ["a\rb", 3],
      ["C-2", 5],
    ]);
  });

  it("reads a one-column file as comma-separated", () => {
    expect(detectDialect("id\nC-1\n")).toEqual({ separator: ",", lineEnding: "LF" });
  });
});
