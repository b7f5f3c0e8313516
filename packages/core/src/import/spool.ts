import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Rows read back between two looks at the event loop when batches run side by side: reading one does not hold up the replies of those running. */
const ROWS_PER_TURN = 2048;
/** Bytes buffered per partition before a spool block is written. */
const BLOCK = 64 * 1024;
/** Texts up to this many UTF-16 units (or bytes) take the spool's own ASCII paths. */
const SHORT_TEXT = 64;
/** Slots of a reader's cache of short texts (a power of two). */
const TEXT_CACHE = 512;

/** How one kind of checked row is packed into a spool and read back. */
export interface RowCodec<T> {
  /** The most bytes `write` may take for this row (see Spool.textBytes). */
  bytes(row: T): number;
  write(spool: Spool, row: T): void;
  read(reader: SpoolReader): T;
}

export interface CheckedRowsOptions<T> {
  /** Rows are handed back partition by partition (0 first), each in the order added. */
  partitions?: number;
  partitionOf?: (row: T) => number;
}

export interface BatchHooks<T> {
  /** Called for each row as it is read back, in order, with its partition. */
  each?: (row: T, partition: number) => void;
  /** A batch that must start only once every batch before it has finished. */
  alone?: (rows: T[]) => boolean;
}

/**
 * The rows an import has checked, kept in a temporary file between checking the whole
 * file and writing it: memory stays flat in the file's size, and the writing pass
 * neither parses the CSV again (that alone cost a quarter of a touches import) nor
 * sees a file edited in between. (Keeping the rows in memory instead, even only the
 * first quarter million, cost more: the garbage collector then copies every one of
 * them into the old generation.)
 *
 * Partitions let the writer hand rows back grouped (touches: by customer id range),
 * keeping the file's order inside each group.
 */
export class CheckedRows<T> {
  private readonly spool: Spool;
  private readonly partitions: number;
  /** Rows added per partition. */
  private readonly counts: number[];

  constructor(
    private readonly codec: RowCodec<T>,
    private readonly options: CheckedRowsOptions<T> = {},
  ) {
    this.partitions = options.partitions ?? 1;
    this.spool = new Spool(this.partitions);
    this.counts = new Array(this.partitions).fill(0);
  }

  add(row: T): void {
    const partition = this.options.partitionOf?.(row) ?? 0;
    this.counts[partition] = (this.counts[partition] as number) + 1;
    this.spool.begin(partition, this.codec.bytes(row));
    this.codec.write(this.spool, row);
  }

  /**
   * Every row, partition by partition, handed over `size` at a time (the last batch may
   * be smaller), up to `parallel` batches at once. The next batch is read only once a
   * slot is free: with one at a time, reading it is the pause between two write
   * transactions in which another process can take SQLite's write lock. Batches run
   * side by side (parallel > 1) end where a partition does when the next one would not
   * fit whole: two running batches then hold different partitions (touches: different
   * customers, so neither waits for the other's locks), unless a partition alone is
   * larger than a batch. If a handler
   * fails, no further batch starts, the running ones finish, and then the failure is
   * thrown.
   */
  async inBatches(size: number, handle: (rows: T[]) => Promise<void>, parallel = 1, hooks: BatchHooks<T> = {}): Promise<void> {
    const running = new Set<Promise<void>>();
    const failed: Array<{ error: unknown }> = [];
    const start = async (rows: T[]) => {
      if (hooks.alone?.(rows)) while (running.size > 0) await Promise.race(running);
      const task: Promise<void> = handle(rows).then(
        () => {
          running.delete(task);
        },
        (error: unknown) => {
          running.delete(task);
          failed.push({ error });
        },
      );
      running.add(task);
      while (running.size >= parallel) await Promise.race(running);
      if (failed[0] !== undefined) throw failed[0].error;
    };
    try {
      let batch: T[] = [];
      let read = 0;
      for (let partition = 0; partition < this.partitions; partition++) {
        if (parallel > 1 && batch.length > 0 && batch.length + (this.counts[partition] as number) > size) {
          await start(batch);
          batch = [];
        }
        const reader = this.spool.reader(partition);
        while (reader.next()) {
          if (parallel > 1 && ++read % ROWS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
          const row = this.codec.read(reader);
          hooks.each?.(row, partition);
          batch.push(row);
          if (batch.length === size) {
            await start(batch);
            batch = [];
          }
        }
      }
      if (batch.length > 0) await start(batch);
    } finally {
      await Promise.all(running);
    }
    if (failed[0] !== undefined) throw failed[0].error;
  }

  /** Delete the spool file. */
  close(): void {
    this.spool.close();
  }
}

/**
 * A temporary file of packed records in partitions: numbers as float64, small codes as
 * one byte, text as int32 byte length (-1 for null) and UTF-8. Each partition buffers
 * its records and writes them as blocks; a reader reads one partition's blocks back.
 */
export class Spool {
  private readonly buffers: Array<Buffer | undefined>;
  private readonly used: number[];
  private readonly blocks: Array<Array<[offset: number, size: number]>>;
  private end = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private at = 0;
  private partition = 0;
  private readonly dir: string;
  private readonly fd: number;

  constructor(partitions = 1) {
    this.buffers = Array.from({ length: partitions }, () => undefined);
    this.used = Array.from({ length: partitions }, () => 0);
    this.blocks = Array.from({ length: partitions }, () => []);
    this.dir = mkdtempSync(join(tmpdir(), "keepwarm-import-"));
    this.fd = openSync(join(this.dir, "rows.bin"), "w+");
  }

  /** Start a record of at most `maxBytes` bytes in a partition. */
  begin(partition: number, maxBytes: number): void {
    if (partition !== this.partition) this.select(partition);
    if (this.at + maxBytes > this.buffer.length) {
      this.flush();
      if (maxBytes > this.buffer.length) {
        this.buffer = Buffer.allocUnsafe(Math.max(BLOCK, maxBytes));
        this.buffers[partition] = this.buffer;
      }
    }
  }

  private select(partition: number): void {
    this.used[this.partition] = this.at;
    this.partition = partition;
    this.buffer = this.buffers[partition] ?? Buffer.alloc(0);
    this.at = this.used[partition] as number;
  }

  number(value: number): void {
    this.at = this.buffer.writeDoubleLE(value, this.at);
  }

  byte(value: number): void {
    this.at = this.buffer.writeUInt8(value, this.at);
  }

  text(value: string | null): void {
    if (value === null) {
      this.at = this.buffer.writeInt32LE(-1, this.at);
      return;
    }
    const buffer = this.buffer;
    const start = this.at + 4;
    const chars = value.length;
    // Short ASCII text (ids, user names, most notes) copied by hand: Buffer#write is a call into
    // C++ that cost more than the copy, three times per touch.
    let length = chars <= SHORT_TEXT ? chars : -1;
    for (let i = 0; i < length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        length = -1;
        break;
      }
      buffer[start + i] = c;
    }
    if (length < 0) length = buffer.write(value, start, "utf8");
    buffer.writeInt32LE(length, this.at);
    this.at = start + length;
  }

  /** Bytes a text may take: at most 3 per UTF-16 unit, plus its length. */
  static textBytes(value: string | null): number {
    return 4 + (value === null ? 0 : value.length * 3);
  }

  /** Write the current partition's buffered records as a block. */
  private flush(): void {
    if (this.at === 0) return;
    writeSync(this.fd, this.buffer, 0, this.at, this.end);
    (this.blocks[this.partition] as Array<[number, number]>).push([this.end, this.at]);
    this.end += this.at;
    this.at = 0;
  }

  /** A reader of one partition's records, in the order written. */
  reader(partition: number): SpoolReader {
    this.select(partition);
    this.flush();
    return new SpoolReader(this.fd, this.blocks[partition] as Array<[number, number]>);
  }

  /** Delete the temporary file. */
  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class SpoolReader {
  private buffer = Buffer.alloc(0);
  private at = 0;
  private end = 0;
  private block = 0;
  private readonly texts: Array<string | undefined> = new Array(TEXT_CACHE).fill(undefined);

  constructor(
    private readonly fd: number,
    private readonly blocks: ReadonlyArray<readonly [number, number]>,
  ) {}

  /** Move to the next record; false when there is none. Read its fields in the order they were written. */
  next(): boolean {
    if (this.at < this.end) return true;
    if (this.at > this.end) throw new Error("spool: a record was read past its block");
    const block = this.blocks[this.block];
    if (block === undefined) return false;
    const [offset, size] = block;
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(Math.max(BLOCK, size));
    let done = 0;
    while (done < size) done += readSync(this.fd, this.buffer, done, size - done, offset + done);
    this.block++;
    this.at = 0;
    this.end = size;
    return true;
  }

  number(): number {
    const value = this.buffer.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  byte(): number {
    return this.buffer[this.at++] as number;
  }

  /**
   * Short ASCII texts come from a small cache by their bytes: the same user, kind of note or
   * id recurs across rows, and each hit spares a string made in C++ and its garbage.
   */
  text(): string | null {
    const buffer = this.buffer;
    const length = buffer.readInt32LE(this.at);
    const start = this.at + 4;
    if (length < 0) {
      this.at = start;
      return null;
    }
    const end = start + length;
    this.at = end;
    if (length > SHORT_TEXT) return buffer.toString("utf8", start, end);
    let hash = length;
    for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + (buffer[i] as number)) | 0;
    const slot = hash & (TEXT_CACHE - 1);
    const cached = this.texts[slot];
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (cached.charCodeAt(i) !== buffer[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const value = buffer.toString("utf8", start, end);
    // Only ASCII (as many characters as bytes) is cached: its characters are its bytes, as compared above.
    if (value.length === length) this.texts[slot] = value;
    return value;
  }
}
