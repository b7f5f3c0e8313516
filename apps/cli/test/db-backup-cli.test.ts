import { existsSync } from "node:fs";
import { openStore } from "@keepwarm/store";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError, seedQuietCustomers } from "./spine-fixtures";

const box = cliSandbox();
const tmp = tempDir("keepwarm-backup-");
afterAll(() => {
  box.cleanup();
  tmp.cleanup();
});

const postgres = process.env.KEEPWARM_TEST_ENGINE === "postgres";

describe("keepwarm db backup FILE", () => {
  it.skipIf(postgres)("copies the SQLite database, while another connection holds it open, into a file that opens with the same rows", async () => {
    await box.withStore((store) => seedQuietCustomers(store, 25));
    const target = tmp.file("backup.db");
    // A store held open meanwhile, as a running bot would.
    const result = await box.withStore(() => box.cli(["db", "backup", target]));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^backed up \S+ to \S+backup\.db \(\d+ KB, integrity checked\)$/m);
    const copy = await openStore(target, { readonly: true });
    const rows = await copy.db
      .selectFrom("customers")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    await copy.close();
    expect(Number(rows.n)).toBe(25);
  });

  it.skipIf(postgres)("never overwrites an existing file", async () => {
    const target = tmp.file("taken.db", "precious");
    expectUserError(await box.cli(["db", "backup", target]), /already exists: give a new file name/);
  });

  it.skipIf(!postgres)("on PostgreSQL says to use pg_dump, in one line", async () => {
    const target = tmp.file("pg-backup.db");
    const result = await box.cli(["db", "backup", target]);
    expectUserError(result, /KEEPWARM_DB is PostgreSQL: back it up with pg_dump/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(existsSync(target)).toBe(false);
  });
});
