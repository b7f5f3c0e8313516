import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { type CsvRecord, MalformedCsvError, readCsv } from "../src/import/csv-reader";

/** Feed `text` as UTF-8 Buffer chunks of `size` bytes (multi-byte characters get cut). */
async function readAll(text: string, size: number): Promise<CsvRecord[]> {
  const bytes = Buffer.from(text, "utf8");
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const records: CsvRecord[] = [];
  for await (const batch of readCsv(chunks())) records.push(...batch);
  return records;
}

/** csv-parse with the options importCsv used before: records, and each one's start line (its previous end + 1). */
function csvParse(text: string): CsvRecord[] {
  let previousEnd = 0;
  return (parse(text, { bom: true, info: true, relax_column_count: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>).map(
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
