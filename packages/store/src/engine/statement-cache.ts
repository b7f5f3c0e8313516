import type BetterSqlite3 from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/** Distinct statements kept per connection; the least recently used go first. */
const CACHE_SIZE = 256;

/**
 * The SQLite connection as kysely sees it, with its prepared statements reused.
 * Kysely prepares every query it runs; compiling the SQL costs tens of microseconds,
 * and a `/touch` runs a dozen small queries: at hundreds of commands a second that was
 * most of the bot's CPU. A statement still being iterated (a streamed query) is never
 * handed out twice: that query gets a fresh one.
 */
export function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached !== undefined && !cached.busy) {
        // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached as unknown as SqliteStatement;
      }
      const statement = sqlite.prepare(sql);
      if (cached === undefined) {
        cache.set(sql, statement);
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      return statement as unknown as SqliteStatement;
    },
  };
}
