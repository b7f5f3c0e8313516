import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, StoreError } from "../src/index";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("keepwarm-store-");
});
afterEach(() => tmp.cleanup());

describe("openStore", () => {
  it("creates the folder and the file, migrates, and sets WAL, busy timeout and foreign keys", async () => {
    const store = await openStore(join(tmp.dir, "nested", "dir", "keepwarm.db"));
    try {
      expect(store.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(store.sqlite.pragma("busy_timeout", { simple: true })).toBeGreaterThanOrEqual(5000);
      expect(store.sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
      const tables = store.sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'kysely%' AND name NOT LIKE 'sqlite%'")
        .pluck()
        .all();
      expect(tables).toEqual(
        expect.arrayContaining(["customers", "touchpoints", "nps_responses", "purchases", "nudges", "outbox", "rule_sets", "sweep_runs", "leases"]),
      );
    } finally {
      await store.close();
    }
  });

  it("opens an existing database again without re-running migrations or losing data", async () => {
    const path = join(tmp.dir, "keepwarm.db");
    const first = await openStore(path);
    first.sqlite.prepare("INSERT INTO customers (external_id, name, created_at, updated_at) VALUES ('C-1', 'Acme', 0, 0)").run();
    await first.close();
    const second = await openStore(path);
    expect(second.sqlite.prepare("SELECT name FROM customers").pluck().all()).toEqual(["Acme"]);
    await second.close();
  });

  it("refuses a path under a regular file with a StoreError naming KEEPWARM_DB", async () => {
    const file = join(tmp.dir, "plain");
    writeFileSync(file, "not a directory");
    const attempt = openStore(join(file, "keepwarm.db"));
    await expect(attempt).rejects.toBeInstanceOf(StoreError);
    await expect(openStore(join(file, "keepwarm.db"))).rejects.toThrow(/KEEPWARM_DB/);
  });

  it("refuses a file that is not a SQLite database with a StoreError", async () => {
    const file = join(tmp.dir, "text.db");
    writeFileSync(file, "this is not sqlite, just text that is long enough to be read as a header".repeat(10));
    await expect(openStore(file)).rejects.toBeInstanceOf(StoreError);
  });

  it("enforces one live nudge per (rule, customer) and foreign keys in the schema", async () => {
    const store = await openStore(join(tmp.dir, "keepwarm.db"));
    try {
      store.sqlite.prepare("INSERT INTO customers (id, external_id, name, created_at, updated_at) VALUES (1, 'C-1', 'Acme', 0, 0)").run();
      const insert = (status: string) =>
        store.sqlite
          .prepare(
            "INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, facts, cooldown_days, destination, created_at, updated_at) VALUES ('r', 1, 1, ?, 2, '', '', '{}', 7, 'owner', 0, 0)",
          )
          .run(status);
      insert("resolved");
      insert("open");
      insert("dismissed");
      expect(() => insert("open")).toThrow(/UNIQUE/);
      expect(() => insert("snoozed")).toThrow(/UNIQUE/);
      expect(() =>
        store.sqlite.prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, source) VALUES (99, 'call', 0, 0, 'cli')").run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });
});
