import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import type pg from "pg";
import { isPostgres } from "./engine/dialect";
import { type Engine, engineOf, maskLocation } from "./engine/location";
import { withStatementCache } from "./engine/statement-cache";
import { migrationProvider } from "./migrations/index";
import type { Database } from "./schema";

export class StoreError extends Error {
  override name = "StoreError";
}

/** The driver under a store: only this package's engine-specific hot paths reach it. */
export type Driver = { engine: "sqlite"; sqlite: BetterSqlite3.Database } | { engine: "postgres"; pool: pg.Pool };

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  /** The KEEPWARM_DB value that reopens this store (a file path, or the URL with its password). */
  location: string;
  /** The location fit for messages: a URL's password masked. */
  display: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Skip migrations (read-only tools on a database known to be current). */
  migrate?: boolean;
  readonly?: boolean;
  /**
   * For commands that only read (stats, export, doctor): a SQLite file this user may
   * not write is opened read-only instead of failing, provided its schema is current.
   */
  readonlyFallback?: boolean;
  /** PostgreSQL connections per process (default 10). */
  poolSize?: number;
  /** What messages call the location: the variable or option it came from (default KEEPWARM_DB). */
  label?: string;
}

const drivers = new WeakMap<Store, Driver>();

/** The raw driver of a store, for the hand-tuned SQL in this package's hot paths. */
export function driverOf(store: Store): Driver {
  const driver = drivers.get(store);
  if (driver === undefined) throw new StoreError("store is closed or was not opened by openStore");
  return driver;
}

export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  return engineOf(location) === "postgres" ? openPostgres(location, options) : openSqlite(location, options);
}

async function openSqlite(path: string, options: OpenStoreOptions): Promise<Store> {
  const file = path === ":memory:" ? path : resolve(path);
  let sqlite: BetterSqlite3.Database;
  if (options.readonlyFallback && !options.readonly && file !== ":memory:" && existsSync(file) && !canWrite(file)) {
    const store = await openSqlite(path, { ...options, readonly: true });
    const { pending } = await schemaStatus(store.db);
    if (pending.length === 0) return store;
    await store.close();
    throw new StoreError(`database "${path}" (${labelOf(options)}) is read-only and older than this keepwarm: make it writable once so it can be migrated`);
  }
  try {
    if (file !== ":memory:" && !options.readonly) mkdirSync(dirname(file), { recursive: true });
    sqlite = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    // Switching the journal mode writes the file header: a read-only open keeps the file's mode.
    if (!options.readonly) sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 10000");
    sqlite.pragma("foreign_keys = ON");
    if (!options.readonly) sqlite.pragma("synchronous = NORMAL");
  } catch (error) {
    throw new StoreError(`cannot open database "${path}" (${labelOf(options)}): ${describeSqliteError(error)}`, { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return finishOpen(db, { engine: "sqlite", sqlite }, file, options);
}

/** The file and its directory (SQLite writes its -wal and -shm files next to it). */
function canWrite(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    accessSync(dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The driver's words, plus what an operator does about it where that is clear. */
function describeSqliteError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return `${message}: the file is damaged or not a keepwarm database; restore the last backup (see docs/operations.md)`;
  }
  if (code === "SQLITE_FULL") return `${message}: the disk is full; free some space`;
  return message ?? String(error);
}

// int8 (counts, epoch milliseconds) and numeric (sums) arrive as strings by default;
// every such value keepwarm stores fits a double exactly (ms until the year 287,396).
const NUMBER_OIDS = new Set([20, 1700]);
/** pg's type parsers, numbers as numbers. */
function pgTypes(types: typeof pg.types) {
  return {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      NUMBER_OIDS.has(oid) ? (value: string) => Number(value) : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
  };
}

async function openPostgres(url: string, options: OpenStoreOptions): Promise<Store> {
  const shown = maskLocation(url);
  // Loaded here: a SQLite install never pays for the PostgreSQL driver at start-up.
  const { default: pgModule } = await import("pg");
  const pool = new pgModule.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000, types: pgTypes(pgModule.types) });
  // An idle client's socket error (a PostgreSQL restart) must not end the process:
  // the pool drops that client and the next query opens a new connection.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StoreError(`cannot connect to PostgreSQL at ${shown} (${labelOf(options)}): ${describePgError(error)}`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return finishOpen(db, { engine: "postgres", pool }, url, options);
}

function describePgError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  switch (e.code) {
    case "ECONNREFUSED":
      return "connection refused (is the server running, and on that host and port?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host";
    case "28P01":
    case "28000":
      return "authentication failed (check the user and password)";
    case "3D000":
      return "the database does not exist (create it first: createdb NAME)";
    default:
      return (e.message ?? String(error)).split("\n")[0] ?? "unknown error";
  }
}

async function finishOpen(db: Kysely<Database>, driver: Driver, location: string, options: OpenStoreOptions): Promise<Store> {
  const display = maskLocation(location);
  const label = labelOf(options);
  if (options.migrate !== false && !options.readonly) {
    try {
      // A current schema needs no migrator (whose lock table is a write): a read-only PostgreSQL still opens.
      if ((await refuseNewerSchema(db, display, label)).pending.length > 0) {
        const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
        if (error) throw new StoreError(`cannot migrate database ${display} (${label}): ${firstLine(error)}`);
      }
    } catch (error) {
      await db.destroy();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot migrate database ${display} (${label}): ${firstLine(error)}`);
    }
  }
  const store: Store = {
    db,
    engine: driver.engine,
    location,
    display,
    close: async () => {
      drivers.delete(store);
      await db.destroy();
    },
  };
  drivers.set(store, driver);
  return store;
}

const firstLine = (error: unknown) => ((error as Error).message ?? String(error)).split("\n")[0];
const labelOf = (options: OpenStoreOptions) => options.label ?? "KEEPWARM_DB";

export interface SchemaStatus {
  /** Migrations this keepwarm knows that the database lacks (all of them for an empty database). */
  pending: string[];
  /** Migrations the database has that this keepwarm does not know: a newer keepwarm migrated it. */
  unknown: string[];
}

/** How the database's schema compares with this keepwarm's migrations; reads only. */
export async function schemaStatus(db: Kysely<Database>): Promise<SchemaStatus> {
  const known = Object.keys(await migrationProvider.getMigrations());
  if (!(await hasMigrationTable(db))) return { pending: known, unknown: [] };
  const applied = (await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db)).rows.map((row) => row.name);
  return { pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
}

/**
 * Whether the database has kysely's migration table: one catalog look-up, where kysely's
 * introspection (every column of every table) took 30 ms of each PostgreSQL open.
 */
async function hasMigrationTable(db: Kysely<Database>): Promise<boolean> {
  const query = isPostgres(db)
    ? sql<{
        found: number;
      }>`SELECT count(*)::int AS found FROM pg_catalog.pg_tables WHERE tablename = 'kysely_migration' AND schemaname = ANY (current_schemas(false))`
    : sql<{ found: number }>`SELECT count(*) AS found FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`;
  return Number((await query.execute(db)).rows[0]?.found) > 0;
}

/** An older keepwarm must not run on a schema a newer one migrated: it would misread it. */
async function refuseNewerSchema(db: Kysely<Database>, display: string, label: string): Promise<SchemaStatus> {
  const status = await schemaStatus(db);
  const { unknown } = status;
  if (unknown.length > 0) {
    throw new StoreError(
      `database ${display} (${label}) has a newer schema than this keepwarm (migration ${unknown[0]} unknown): upgrade keepwarm, or restore a backup`,
    );
  }
  return status;
}
