import type pg from "pg";

/** pg is loaded on first use: a SQLite install (and every CLI start) never pays for it. */
async function newClient(config: pg.ClientConfig): Promise<pg.Client> {
  const { default: pgModule } = await import("pg");
  return new pgModule.Client(config);
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const SETTING_NAME = /^[a-z_]+$/;

/**
 * Create a PostgreSQL database next to the one `adminUrl` names and return its URL
 * (tests, `db copy` rehearsals): empty, or a copy of `template` (which nobody may be
 * connected to), with `settings` every session of it starts with (ALTER DATABASE …
 * SET). Names are checked: they go into DDL unquoted.
 */
export async function createPostgresDatabase(adminUrl: string, name: string, template?: string, settings: Record<string, string> = {}): Promise<string> {
  for (const checked of [name, template]) if (checked !== undefined && !DB_NAME.test(checked)) throw new Error(`invalid database name "${checked}"`);
  for (const setting of Object.keys(settings)) if (!SETTING_NAME.test(setting)) throw new Error(`invalid setting name "${setting}"`);
  const client = await newClient({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}${template === undefined ? "" : ` TEMPLATE ${template}`}`);
    for (const [setting, value] of Object.entries(settings)) await client.query(`ALTER DATABASE ${name} SET ${setting} = ${client.escapeLiteral(value)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Let nobody connect to the database `name` any more (a template: autovacuum skips it, so copies of it never find it busy). */
export async function closePostgresDatabase(adminUrl: string, name: string): Promise<void> {
  if (!DB_NAME.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = await newClient({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  } finally {
    await client.end();
  }
}

/** The databases whose name starts with `prefix`. */
export async function listPostgresDatabases(adminUrl: string, prefix: string): Promise<string[]> {
  const client = await newClient({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

/**
 * Drop every database whose name starts with `prefix` (test clean-up), connections and
 * all. Four at a time: a drop mostly waits on the server's file work, and the suite's
 * hundreds of databases took minutes one by one.
 */
export async function dropPostgresDatabases(adminUrl: string, prefix: string): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`invalid prefix "${prefix}"`);
  const names = await listPostgresDatabases(adminUrl, prefix);
  let next = 0;
  const dropper = async () => {
    const client = await newClient({ connectionString: adminUrl });
    await client.connect();
    try {
      for (let name = names[next++]; name !== undefined; name = names[next++]) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, names.length) }, dropper));
  return names.length;
}

/** Whether a PostgreSQL server answers at `url` within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 3000): Promise<boolean> {
  const client = await newClient({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * CPU time (ms) each server process serving `url`'s database has used so far, by pid,
 * when the server runs on this machine (benchmarks on loopback read it from /proc).
 * Lets a benchmark count the server's work next to its own: on a busy machine CPU
 * time wanders far less than wall time.
 */
export async function serverCpuByPid(url: string): Promise<Map<number, number>> {
  const { readFileSync } = await import("node:fs");
  const client = await newClient({ connectionString: url });
  await client.connect();
  const cpu = new Map<number, number>();
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    for (const { pid } of rows) {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in clock ticks (100 per second on Linux).
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
      } catch {
        // A server on another machine, or a backend that just ended: nothing to count.
      }
    }
  } finally {
    await client.end();
  }
  return cpu;
}
