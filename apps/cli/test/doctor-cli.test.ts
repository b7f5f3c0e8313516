import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { makeDatabaseReadOnly } from "@keepwarm/store/testing/faults";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, describe, expect, it } from "vitest";

const tmp = tempDir("keepwarm-doctor-");
afterAll(() => tmp.cleanup());

describe("keepwarm doctor", () => {
  it("reports the database, the last real sweep and the delivery backlog, and fails on a failed sweep", async () => {
    const db = await freshDatabase(tmp);
    const env = { KEEPWARM_DB: db, KEEPWARM_TZ: "UTC" };
    const unmigrated = await runCli(["doctor"], env);
    expect(unmigrated.code).toBe(1);
    expect(unmigrated.stdout).toMatch(/^FAIL {2}database {5}/m);
    expect((await runCli(["init"], env)).code).toBe(0);
    const empty = await runCli(["doctor"], env);
    expect(empty.stderr).toBe("");
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^ok {4}database {5}\S+ \(0 customers\)$/m);
    expect(empty.stdout).toMatch(/^ok {4}last sweep {3}never ran$/m);
    expect(empty.stdout).toMatch(/^ok {4}delivery {5}0 pending, 0 failed$/m);

    const store = await openStore(db);
    const customer = { name: "Acme", loyalty_member: 0, attributes: "{}", created_at: 0, updated_at: 0 };
    await store.db
      .insertInto("customers")
      .values([
        { ...customer, external_id: "C-1" },
        { ...customer, external_id: "C-2" },
      ])
      .execute();
    const run = { as_of: 0, host: "h", pid: 1, dry_run: 0, evaluated: 0, matched: 0, created: 0, reopened: 0, expired: 0, held_out: 0 };
    await store.db
      .insertInto("sweep_runs")
      .values([
        { ...run, started_at: Date.parse("2026-06-01T09:00:00Z"), status: "error", error: "boom" },
        // A dry run afterwards is not "the last sweep".
        { ...run, started_at: Date.parse("2026-06-02T09:00:00Z"), status: "ok", dry_run: 1 },
      ])
      .execute();
    await store.close();

    const failed = await runCli(["doctor"], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^ok {4}database {5}\S+ \(2 customers\)$/m);
    expect(failed.stdout).toMatch(/^FAIL {2}last sweep {3}#1 error at 2026-06-01T09:00:00.000Z: boom$/m);
  });

  it("reports a mistyped KEEPWARM_DB as missing and creates neither the file nor its directory", async () => {
    const missing = tmp.file("no-such-dir/keepwarm.db");
    const result = await runCli(["doctor"], { KEEPWARM_DB: missing, KEEPWARM_TZ: "UTC" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}database {5}no database at \S+no-such-dir\/keepwarm\.db \(is KEEPWARM_DB mistyped\? keepwarm init creates one\)$/m);
    expect(existsSync(dirname(missing))).toBe(false);
  });

  it("calls an empty database unmigrated, not healthy, and leaves it as it was", async () => {
    const empty = tmp.file("empty.db", "");
    const result = await runCli(["doctor"], { KEEPWARM_DB: empty, KEEPWARM_TZ: "UTC" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}database {5}\S+empty\.db needs \d+ migrations: run keepwarm init/m);
    expect(statSync(empty).size).toBe(0);
  });

  it("reports whether the database can take writes and how much disk is free", async () => {
    const env = { KEEPWARM_DB: await freshDatabase(tmp), KEEPWARM_TZ: "UTC" };
    await runCli(["init"], env);
    const result = await runCli(["doctor"], env);
    expect(result.stdout).toMatch(
      process.env.KEEPWARM_TEST_ENGINE === "postgres" ? /^ok {4}storage {6}writable$/m : /^ok {4}storage {6}writable, \d+ MB free$/m,
    );
  });

  it.skipIf(process.env.KEEPWARM_TEST_ENGINE !== "postgres")(
    "on a read-only database: doctor says so, stats and export still answer, a touch fails in one line",
    async () => {
      const env = { KEEPWARM_DB: await freshDatabase(tmp), KEEPWARM_TZ: "UTC" };
      await runCli(["init"], env);
      const csv = tmp.file("ro-customers.csv", "id,name\nC-1,Acme Ltd\n");
      expect((await runCli(["import", "customers", csv], env)).code).toBe(0);
      const store = await openStore(env.KEEPWARM_DB);
      await makeDatabaseReadOnly(store.db);
      await store.close();
      const doctor = await runCli(["doctor"], env);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(
        /^FAIL {2}storage {6}read-only: PostgreSQL sessions are read-only \(default_transaction_read_only\); sweeps and touches will fail/m,
      );
      const stats = await runCli(["stats", "--json"], env);
      expect(stats.stderr).toBe("");
      expect(stats.code).toBe(0);
      expect((await runCli(["rules", "export"], env)).code).toBe(0);
      const touch = await runCli(["touch", "C-1", "call"], env);
      expect(touch.code).toBe(1);
      expect(touch.stderr).toMatch(/^keepwarm: error: the database is read-only here: this command writes[^\n]*\n$/);
    },
  );
});
