import type pg from "pg";

/**
 * PostgreSQL test databases used again within one vitest worker. A CREATE DATABASE …
 * TEMPLATE writes the whole database (8 MB) to the WAL, and each DROP DATABASE waits on
 * a checkpoint: at one database per test they were most of the PostgreSQL half's time.
 *
 * A worker runs its test files one after another, and a file may keep a database from
 * one test to the next (made in beforeAll, or on first use by a sandbox), so a database
 * belongs to the file that asked for it until another file asks for one. Then each of
 * the finished file's databases is emptied, renamed (a test never meets a name seen
 * before, nor a cache keyed by it) and handed to the next test that asks for a migrated
 * one, provided no session of it is left and its schema, migrations and settings are
 * still those of an untouched copy of the template. Anything else, or an error, and it
 * is left for globalSetup's teardown to drop.
 */

export interface ReuseOptions {
  adminUrl: string;
  /** A name no database of the run has had. */
  newName(): string;
}

/** Emptied databases, ready for the next test. */
const ready: string[] = [];
/** The databases handed out, by the test file that asked for them. */
const owners = new Map<string, string>();
/** The emptying of finished files' databases, one after another (so the first is ready soonest). */
const queued: Array<Promise<void>> = [];
/** What an untouched copy of the template looks like, and how to empty one. */
let shape: Promise<{ fingerprint: string; emptyAll: string }> | undefined;
/** More than this in its tables and indexes and a database is dropped, not emptied: no test inherits a big one's dead rows. */
const MAX_REUSED_BYTES = 4 * 1024 * 1024;
/** How long the sessions of a finished file (a killed process's backend, a pool closing) may take to go. */
const SESSIONS_GONE_MS = 1000;

/**
 * One line per object of the schema, hashed: relations, columns (in order), defaults,
 * constraints, indexes, triggers, functions, the applied migrations, the migration lock,
 * and the database's own settings (a test may make it read-only).
 */
const FINGERPRINT = `SELECT md5(string_agg(line, E'\\n' ORDER BY line)) AS fingerprint FROM (
  SELECT format('rel %s.%s %s', n.nspname, c.relname, c.relkind) AS line FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  UNION ALL SELECT format('col %s %s %s %s %s %s', a.attrelid::regclass, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT format('idx %s', pg_get_indexdef(indexrelid)) FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL SELECT format('trg %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT format('fn %s', p.oid::regprocedure) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT format('set %s', setconfig) FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL SELECT format('db %s %s', datallowconn, datconnlimit) FROM pg_database WHERE datname = current_database()
  UNION ALL SELECT format('mig %s', name) FROM kysely_migration
  UNION ALL SELECT format('lock %s %s', id, is_locked) FROM kysely_migration_lock
) lines`;
const SIZE = `SELECT coalesce(sum(pg_relation_size(oid)), 0)::float8 AS bytes FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')`;
const OTHER_SESSIONS = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

async function connect(url: string): Promise<pg.Client> {
  const { default: pgModule } = await import("pg");
  const client = new pgModule.Client({ connectionString: url });
  await client.connect();
  return client;
}

const nameOf = (url: string) => new URL(url).pathname.slice(1);
function renamed(url: string, name: string): string {
  const next = new URL(url);
  next.pathname = `/${name}`;
  return next.toString();
}

/**
 * DELETE, children before parents, rather than TRUNCATE: TRUNCATE makes new files for
 * every table and index, 0.9 s a database on the shared test VM against 15 ms.
 * Sequences start again where a copy of the template's start.
 */
async function emptyAllOf(client: pg.Client): Promise<string> {
  const { rows: tables } = await client.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('kysely_migration', 'kysely_migration_lock')",
  );
  const { rows: references } = await client.query<{ child: string; parent: string }>(
    "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conrelid <> confrelid",
  );
  const order: string[] = [];
  const visit = (table: string, path: Set<string>) => {
    if (order.includes(table) || path.has(table)) return;
    path.add(table);
    for (const { child } of references.filter((r) => r.parent === table)) visit(child, path);
    order.push(table);
  };
  for (const { name } of tables) visit(name, new Set());
  const deletes = order.map((table) => `DELETE FROM ${client.escapeIdentifier(table)};`).join(" ");
  return `BEGIN; ${deletes} SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL; COMMIT;`;
}

/** The test file running in this worker (vitest runs a worker's files one at a time); undefined outside vitest. */
async function currentFile(): Promise<string | undefined> {
  const { expect } = await import("vitest");
  return expect.getState().testPath;
}

/** A database emptied after an earlier file, if one is ready or being made so. */
export async function takeReusedDatabase(): Promise<string | undefined> {
  while (ready.length === 0 && queued.length > 0) await queued[0];
  return ready.pop();
}

/** Learn, once per worker, what `url` (an untouched copy of the template) looks like. */
export async function learnTemplateShape(url: string): Promise<void> {
  shape ??= (async () => {
    const client = await connect(url);
    try {
      const { rows } = await client.query<{ fingerprint: string }>(FINGERPRINT);
      return { fingerprint: rows[0]?.fingerprint ?? "", emptyAll: await emptyAllOf(client) };
    } finally {
      await client.end();
    }
  })();
  await shape;
}

/**
 * The running test file asks for a database, so every earlier file is finished: their
 * databases are emptied for reuse, in the background, one at a time.
 */
export async function releaseEarlierFiles(options: ReuseOptions): Promise<void> {
  const file = await currentFile();
  for (const [url, owner] of owners) {
    if (owner === file) continue;
    owners.delete(url);
    const job: Promise<void> = (queued.at(-1) ?? Promise.resolve()).then(async () => {
      const reused = await reuse(url, options);
      if (reused !== undefined) ready.push(reused);
      queued.splice(queued.indexOf(job), 1);
    });
    queued.push(job);
  }
}

/** `url` is the running test file's until another file asks for a database. */
export async function keepForThisFile(url: string): Promise<void> {
  const file = await currentFile();
  if (file !== undefined) owners.set(url, file);
}

/** The database emptied and renamed, or undefined when it is not fit for reuse. */
async function reuse(url: string, options: ReuseOptions): Promise<string | undefined> {
  if (shape === undefined) return undefined;
  let client: pg.Client | undefined;
  try {
    const { fingerprint, emptyAll } = await shape;
    client = await connect(url);
    for (const deadline = Date.now() + SESSIONS_GONE_MS; ; ) {
      const { rows } = await client.query<{ n: number }>(OTHER_SESSIONS);
      if (rows[0]?.n === 0) break;
      if (Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { rows } = await client.query<{ fingerprint: string }>(FINGERPRINT);
    if (rows[0]?.fingerprint !== fingerprint) return undefined;
    const size = await client.query<{ bytes: number }>(SIZE);
    if ((size.rows[0]?.bytes ?? Number.POSITIVE_INFINITY) > MAX_REUSED_BYTES) return undefined;
    await client.query(emptyAll);
    await client.end();
    client = await connect(options.adminUrl);
    const name = options.newName();
    await client.query(`ALTER DATABASE ${client.escapeIdentifier(nameOf(url))} RENAME TO ${client.escapeIdentifier(name)}`);
    return renamed(url, name);
  } catch {
    // Not reusable (it is gone, read-only, or never got the schema): teardown drops it.
    return undefined;
  } finally {
    await client?.end().catch(() => {});
  }
}
