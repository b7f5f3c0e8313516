import { tempDir } from "@keepwarm/testkit";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countCustomers, insertCustomers, openStore, type Store } from "../src/index";
import { freshDatabase, TEST_ENGINE } from "../src/testing/database";

/**
 * What a running bot or worker sees when PostgreSQL restarts: every connection of its
 * pool is cut. The pool must drop them without an unhandled 'error' event ending the
 * process, and the next queries must run on new connections with nothing lost.
 */
describe.skipIf(TEST_ENGINE !== "postgres")("a PostgreSQL restart under a running store (needs PostgreSQL)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let url: string;
  beforeEach(async () => {
    tmp = tempDir("keepwarm-pg-restart-");
    url = await freshDatabase(tmp);
    store = await openStore(url);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  async function cutEveryConnection(): Promise<number> {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      return rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }

  it("cut connections fail cleanly at most once, then queries recover with nothing lost or doubled", async () => {
    const now = Date.now();
    const row = (i: number) => ({ external_id: `C-${i}`, name: `Customer ${i}`, loyalty_member: 0, attributes: "{}", created_at: now, updated_at: now });
    await insertCustomers(store.db, [row(1), row(2)]);
    // Several pooled connections, all idle, all about to be cut.
    await Promise.all([countCustomers(store.db), countCustomers(store.db), countCustomers(store.db)]);
    expect(await cutEveryConnection()).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const outcomes: string[] = [];
    let count: number | undefined;
    for (let attempt = 0; attempt < 3 && count === undefined; attempt++) {
      try {
        count = await countCustomers(store.db);
        outcomes.push("ok");
      } catch (error) {
        outcomes.push(`error: ${(error as Error).message}`);
      }
    }
    expect(outcomes.filter((o) => o !== "ok").length).toBeLessThanOrEqual(1);
    expect(count).toBe(2);

    await insertCustomers(store.db, [row(3)]);
    expect(await countCustomers(store.db)).toBe(3);
  });
});
