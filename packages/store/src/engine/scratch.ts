import type pg from "pg";

/** pg is loaded on first use: a SQLite install (and every CLI start) never pays for it. */
async function newClient(config: pg.ClientConfig): Promise<pg.Client> {
  const { default: pgModule } = await import("pg");
  return new pgModule.Client(config);
}

/**
 * Create an empty PostgreSQL database next to the one `adminUrl` names and return its
 * URL (tests, `db copy` rehearsals). Names are checked: they go into DDL unquoted.
 */
export async function createPostgresDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = await newClient({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
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

/** Drop every database whose name starts with `prefix` (test clean-up), connections and all. */
export async function dropPostgresDatabases(adminUrl: string, prefix: string): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`invalid prefix "${prefix}"`);
  const client = await newClient({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    return rows.length;
  } finally {
    await client.end();
  }
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
