import { type Kysely, PostgresAdapter } from "kysely";

/**
 * The engine behind a Kysely instance or transaction. Repository functions take only
 * the executor (kysely's `example/` style), so the few statements whose SQL differs
 * between engines ask it here instead of threading the engine through every call.
 */
export function isPostgres(db: Kysely<unknown> | Kysely<never> | { getExecutor(): { adapter: unknown } }): boolean {
  return (db as { getExecutor(): { adapter: unknown } }).getExecutor().adapter instanceof PostgresAdapter;
}
