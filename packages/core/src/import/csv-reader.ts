import { StringDecoder } from "node:string_decoder";
import { UserError } from "../errors";

/** One CSV record and the physical line it starts on (1-based). */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Malformed CSV (RFC 4180): the message names the physical line of the problem. */
export class MalformedCsvError extends UserError {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: malformed CSV (${reason})`);
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/**
 * Streaming RFC 4180 reader: comma-separated, double-quoted fields that may hold
 * commas, doubled quotes and line breaks; records end at LF or CRLF; a UTF-8 BOM is
 * dropped. Same records as csv-parse with `{ bom: true, relax_column_count: true }`
 * (an empty line is a record of one empty field). A line without quotes (most of
 * them) is cut with indexOf and split, never walked character by character.
 *
 * Feed it text with `push`; it returns the complete records and keeps the incomplete
 * tail for the next push. Use `readCsv` for Buffer chunks.
 */
export class CsvReader {
  private tail = "";
  private line = 1;
  private started = false;

  push(chunk: string, final = false): CsvRecord[] {
    let text = this.tail.length === 0 ? chunk : this.tail + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const records: CsvRecord[] = [];
    const length = text.length;
    let pos = 0;
    let nextQuote = -1;
    while (pos < length) {
      let newline = text.indexOf("\n", pos);
      if (newline === -1) {
        if (!final) break;
        newline = length;
      }
      if (nextQuote < pos) {
        nextQuote = text.indexOf('"', pos);
        if (nextQuote === -1) nextQuote = length;
      }
      if (nextQuote >= newline) {
        const end = newline > pos && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
        records.push({ fields: text.slice(pos, end).split(","), line: this.line });
        this.line++;
        pos = newline + 1;
        continue;
      }
      const quoted = this.quotedRecord(text, pos, final);
      if (quoted === undefined) break;
      records.push({ fields: quoted.fields, line: this.line });
      this.line += countNewlines(text, pos, quoted.next);
      pos = quoted.next;
    }
    this.tail = pos >= length ? "" : text.slice(pos);
    if (final && this.tail.length > 0) throw new Error("CsvReader: unparsed tail at the end of input");
    return records;
  }

  /** A record with a quote in it, walked field by field; undefined when it runs past the text (more to come). */
  private quotedRecord(text: string, start: number, final: boolean): { fields: string[]; next: number } | undefined {
    const length = text.length;
    const fields: string[] = [];
    let i = start;
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const opened = i;
        let value = "";
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1 || (q + 1 === length && !final)) {
            if (!final) return undefined;
            throw new MalformedCsvError(this.lineAt(text, start, opened), "a quoted field is not closed before the end of the file");
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          value += text.slice(from, q);
          i = q + 1;
          break;
        }
        fields.push(value);
        const c = i < length ? text.charCodeAt(i) : -1;
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === LF) return { fields, next: i + 1 };
        if (c === -1) return final ? { fields, next: i } : undefined;
        if (c === CR) {
          if (i + 1 === length) return final ? { fields, next: i + 1 } : undefined;
          if (text.charCodeAt(i + 1) === LF) return { fields, next: i + 2 };
        }
        throw new MalformedCsvError(
          this.lineAt(text, start, i),
          `unexpected ${JSON.stringify(text[i])} after the closing quote of field ${fields.length - 1}; a quote inside a field must be doubled`,
        );
      }
      let j = i;
      let c = -1;
      while (j < length) {
        c = text.charCodeAt(j);
        if (c === COMMA || c === LF) break;
        if (c === QUOTE) {
          throw new MalformedCsvError(
            this.lineAt(text, start, j),
            `a quote is found on field ${fields.length} inside an unquoted value; quote the whole field and double the quote`,
          );
        }
        j++;
      }
      if (j === length) {
        if (!final) return undefined;
        fields.push(text.slice(i, j > i && text.charCodeAt(j - 1) === CR ? j - 1 : j));
        return { fields, next: j };
      }
      if (c === COMMA) {
        fields.push(text.slice(i, j));
        i = j + 1;
        continue;
      }
      fields.push(text.slice(i, j > i && text.charCodeAt(j - 1) === CR ? j - 1 : j));
      return { fields, next: j + 1 };
    }
  }

  private lineAt(text: string, start: number, at: number): number {
    return this.line + countNewlines(text, start, at);
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf("\n", from); i !== -1 && i < to; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Records of a stream of UTF-8 Buffer chunks, one array per chunk (fewer awaits than one per record). */
export async function* readCsv(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder("utf8");
  const reader = new CsvReader();
  for await (const chunk of chunks) {
    const records = reader.push(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (records.length > 0) yield records;
  }
  const last = reader.push(decoder.end(), true);
  if (last.length > 0) yield last;
}
