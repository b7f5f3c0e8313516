import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BLOCK = 1 << 20;

/**
 * The rows an import has checked, kept in a temporary file between checking the whole
 * file and writing it: memory stays flat in the file's size, and the writing pass
 * neither parses the CSV again (that alone cost a quarter of a touches import) nor
 * sees a file edited in between. Records are packed binary: numbers as float64, small
 * codes as one byte, text as int32 byte length (-1 for null) and UTF-8.
 */
export class Spool {
  private buffer = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  private readonly blocks: number[] = [];
  private readonly dir: string;
  private readonly fd: number;
  records = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "keepwarm-import-"));
    this.fd = openSync(join(this.dir, "rows.bin"), "w+");
  }

  /** Start a record of at most `maxBytes` bytes. */
  begin(maxBytes: number): void {
    if (this.used + maxBytes > this.buffer.length) {
      this.flush();
      if (maxBytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(maxBytes);
    }
    this.records++;
  }

  number(value: number): void {
    this.used = this.buffer.writeDoubleLE(value, this.used);
  }

  byte(value: number): void {
    this.used = this.buffer.writeUInt8(value, this.used);
  }

  text(value: string | null): void {
    if (value === null) {
      this.used = this.buffer.writeInt32LE(-1, this.used);
      return;
    }
    const length = this.buffer.write(value, this.used + 4, "utf8");
    this.buffer.writeInt32LE(length, this.used);
    this.used += 4 + length;
  }

  /** Bytes a text may take: at most 3 per UTF-16 unit, plus its length. */
  static textBytes(value: string | null): number {
    return 4 + (value === null ? 0 : value.length * 3);
  }

  private flush(): void {
    if (this.used === 0) return;
    writeSync(this.fd, this.buffer, 0, this.used);
    this.blocks.push(this.used);
    this.used = 0;
  }

  /** Read every record back, in order: `read` is called once per record with a reader positioned at its start. */
  *read(): Generator<SpoolReader> {
    this.flush();
    const reader = new SpoolReader(Buffer.allocUnsafe(Math.max(BLOCK, this.buffer.length)));
    let position = 0;
    for (const size of this.blocks) {
      if (reader.buffer.length < size) reader.buffer = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) done += readSync(this.fd, reader.buffer, done, size - done, position + done);
      position += size;
      reader.at = 0;
      while (reader.at < size) {
        const start = reader.at;
        yield reader;
        if (reader.at === start) throw new Error("spool: a record was not read");
      }
    }
  }

  /** Delete the temporary file. */
  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class SpoolReader {
  at = 0;
  constructor(public buffer: Buffer) {}

  number(): number {
    const value = this.buffer.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  byte(): number {
    return this.buffer[this.at++] as number;
  }

  text(): string | null {
    const length = this.buffer.readInt32LE(this.at);
    this.at += 4;
    if (length < 0) return null;
    const value = this.buffer.toString("utf8", this.at, this.at + length);
    this.at += length;
    return value;
  }
}
