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
const LF = 10;
const CR = 13;

export type Separator = "," | ";" | "\t";
export type LineEnding = "LF" | "CRLF" | "CR";

/** How a file is written: its separator and its line endings, as found in its first line. */
export interface CsvDialect {
  separator: Separator;
  lineEnding: LineEnding;
}

const SEPARATORS: readonly Separator[] = [",", ";", "\t"];
const SEPARATOR_NAMES: Record<Separator, string> = { ",": "comma", ";": "semicolon", "\t": "tab" };

export const describeDialect = (dialect: CsvDialect): string => `${SEPARATOR_NAMES[dialect.separator]}-separated, ${dialect.lineEnding} line endings`;

/**
 * The dialect of a file from its start: the separator is the candidate found most often
 * outside quotes in the first record (comma on a tie or when there is none, as in a
 * one-column file), the line ending is the first line break outside quotes (LF when
 * there is none yet). Excel writes semicolons where the decimal mark is a comma, and
 * old Excel for Mac ends lines with a bare CR.
 */
export function detectDialect(start: string): CsvDialect {
  const counts = new Map<string, number>();
  let quoted = false;
  let lineEnding: LineEnding = "LF";
  for (let i = 0; i < start.length; i++) {
    const c = start[i] as string;
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === "\n") break;
    else if (c === "\r") {
      lineEnding = start[i + 1] === "\n" ? "CRLF" : "CR";
      break;
    } else if (c === "," || c === ";" || c === "\t") counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let separator: Separator = ",";
  for (const candidate of SEPARATORS) if ((counts.get(candidate) ?? 0) > (counts.get(separator) ?? 0)) separator = candidate;
  return { separator, lineEnding };
}

/**
 * Streaming RFC 4180 reader: separated, double-quoted fields that may hold the
 * separator, doubled quotes and line breaks; records end at LF or CRLF (or at a bare
 * CR in a file whose first line ends with one); a UTF-8 BOM is dropped. The separator
 * and line endings are detected from the start of the text (see detectDialect) unless
 * given. Same records as csv-parse with `{ bom: true, relax_column_count: true }` and
 * that delimiter (an empty line is a record of one empty field). A line without quotes
 * (most of them) is cut with indexOf and split, never walked character by character.
 *
 * Feed it text with `push`; it returns the complete records and keeps the incomplete
 * tail for the next push. Use `readCsv` for Buffer chunks.
 */
export class CsvReader {
  private tail = "";
  private line = 1;
  private started = false;
  private separator = ",";
  private separatorCode = 44;
  /** The character records end at: LF (a CR before it is dropped), or CR in a CR file. */
  private newline = "\n";
  private newlineCode = LF;
  private stripCr = true;
  dialect: CsvDialect | undefined;

  constructor(private readonly given?: Partial<CsvDialect>) {}

  push(chunk: string, final = false): CsvRecord[] {
    let text = this.tail.length === 0 ? chunk : this.tail + chunk;
    if (!this.started) {
      // The dialect needs the first line whole (or the end of the input).
      const firstBreak = text.search(/[\r\n]/);
      if (!final && (firstBreak === -1 || firstBreak === text.length - 1) && text.length < 1 << 20) {
        this.tail = text;
        return [];
      }
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.setDialect({ ...detectDialect(text), ...this.given });
    }
    const records: CsvRecord[] = [];
    const length = text.length;
    let pos = 0;
    let nextQuote = -1;
    const newlineText = this.newline;
    while (pos < length) {
      let newline = text.indexOf(newlineText, pos);
      if (newline === -1) {
        if (!final) break;
        newline = length;
      }
      if (nextQuote < pos) {
        nextQuote = text.indexOf('"', pos);
        if (nextQuote === -1) nextQuote = length;
      }
      if (nextQuote >= newline) {
        const end = this.stripCr && newline > pos && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
        records.push({ fields: text.slice(pos, end).split(this.separator), line: this.line });
        this.line++;
        pos = newline + 1;
        continue;
      }
      const quoted = this.quotedRecord(text, pos, final);
      if (quoted === undefined) break;
      records.push({ fields: quoted.fields, line: this.line });
      this.line += countNewlines(text, pos, quoted.next, newlineText);
      pos = quoted.next;
    }
    this.tail = pos >= length ? "" : text.slice(pos);
    if (final && this.tail.length > 0) throw new Error("CsvReader: unparsed tail at the end of input");
    return records;
  }

  private setDialect(dialect: CsvDialect): void {
    this.dialect = dialect;
    this.separator = dialect.separator;
    this.separatorCode = dialect.separator.charCodeAt(0);
    this.newline = dialect.lineEnding === "CR" ? "\r" : "\n";
    this.newlineCode = this.newline.charCodeAt(0);
    this.stripCr = dialect.lineEnding !== "CR";
  }

  /** A record with a quote in it, walked field by field; undefined when it runs past the text (more to come). */
  private quotedRecord(text: string, start: number, final: boolean): { fields: string[]; next: number } | undefined {
    const length = text.length;
    const SEPARATOR = this.separatorCode;
    const NEWLINE = this.newlineCode;
    const stripCr = this.stripCr;
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
        if (c === SEPARATOR) {
          i++;
          continue;
        }
        if (c === NEWLINE) return { fields, next: i + 1 };
        if (c === -1) return final ? { fields, next: i } : undefined;
        if (c === CR && stripCr) {
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
        if (c === SEPARATOR || c === NEWLINE) break;
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
        fields.push(text.slice(i, stripCr && j > i && text.charCodeAt(j - 1) === CR ? j - 1 : j));
        return { fields, next: j };
      }
      if (c === SEPARATOR) {
        fields.push(text.slice(i, j));
        i = j + 1;
        continue;
      }
      fields.push(text.slice(i, stripCr && j > i && text.charCodeAt(j - 1) === CR ? j - 1 : j));
      return { fields, next: j + 1 };
    }
  }

  private lineAt(text: string, start: number, at: number): number {
    return this.line + countNewlines(text, start, at, this.newline);
  }
}

function countNewlines(text: string, from: number, to: number, newline: string): number {
  let n = 0;
  for (let i = text.indexOf(newline, from); i !== -1 && i < to; i = text.indexOf(newline, i + 1)) n++;
  return n;
}

/**
 * Records of a stream of UTF-8 Buffer chunks, one array per chunk (fewer awaits than
 * one per record). `onDialect` hears the dialect once it is known (before the first records).
 */
export async function* readCsv(
  chunks: AsyncIterable<Buffer | string>,
  options: { dialect?: Partial<CsvDialect>; onDialect?: (dialect: CsvDialect) => void } = {},
): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder("utf8");
  const reader = new CsvReader(options.dialect);
  let told = false;
  const tell = () => {
    if (!told && reader.dialect !== undefined) {
      told = true;
      options.onDialect?.(reader.dialect);
    }
  };
  for await (const chunk of chunks) {
    const records = reader.push(typeof chunk === "string" ? chunk : decoder.write(chunk));
    tell();
    if (records.length > 0) yield records;
  }
  const last = reader.push(decoder.end(), true);
  tell();
  if (last.length > 0) yield last;
}
