import { existsSync } from "node:fs";
import { freshDatabase } from "@keepwarm/store/testing";
import { runCli, tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectUserError } from "./spine-fixtures";

const tmp = tempDir("keepwarm-cli-");
let db: string;
beforeAll(async () => {
  db = await freshDatabase(tmp);
});
afterAll(() => tmp.cleanup());

/** The CLI on this test's database (a file, or a PostgreSQL database), in UTC. */
const box = {
  file: tmp.file,
  cli: (args: string[], env: Record<string, string> = {}) => runCli(args, { KEEPWARM_DB: db, KEEPWARM_TZ: "UTC", ...env }),
};

/** Exactly one line on stderr. */
const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] as string;
};

describe("keepwarm: bad command lines", () => {
  it("an unknown command gets one line and exit 1", async () => {
    const result = await box.cli(["frobnicate"]);
    expectUserError(result, /unknown command "frobnicate"/);
    oneLine(result.stderr);
  });

  it("missing arguments name what is missing, then the usage", async () => {
    const result = await box.cli(["import", "customers"]);
    expectUserError(result, /^keepwarm: error: missing the CSV file$/);
    expect(result.stderr).toMatch(/\nusage: keepwarm import /);
    expectUserError(await box.cli(["rules", "validate"]), /missing the rule file/);
    expectUserError(await box.cli(["rules"]), /missing rules subcommand/);
  });

  it("an unknown option is named", async () => {
    const result = await box.cli(["sweep", "--frob"]);
    expectUserError(result, /Unknown option '--frob'/);
  });

  it("an unexpected extra argument is named", async () => {
    expectUserError(await box.cli(["sweep", "now"]), /unexpected argument "now"/);
  });
});

describe("keepwarm: bad configuration", () => {
  it("a KEEPWARM_DB that cannot be opened (a path under a regular file) gets one line naming the variable", async () => {
    const file = box.file("not-a-dir", "plain file");
    const result = await box.cli(["init"], { KEEPWARM_DB: `${file}/keepwarm.db` });
    expectUserError(result, /KEEPWARM_DB/);
    oneLine(result.stderr);
  });

  it("a bad KEEPWARM_TZ gets one line naming the variable", async () => {
    const result = await box.cli(["init"], { KEEPWARM_TZ: "Mars/Olympus_Mons" });
    expect(oneLine(result.stderr)).toBe('keepwarm: error: KEEPWARM_TZ="Mars/Olympus_Mons": is not a known time zone (use an IANA name like "Europe/Paris")');
    expect(result.code).toBe(1);
  });

  it("a bad KEEPWARM_SCHEDULE gets one line naming the variable", async () => {
    const result = await box.cli(["sweep"], { KEEPWARM_SCHEDULE: "every weekday at nine" });
    expect(oneLine(result.stderr)).toMatch(/^keepwarm: error: KEEPWARM_SCHEDULE="every weekday at nine": is not a valid cron expression/);
    expect(result.code).toBe(1);
  });

  it("bad configuration changes nothing: no database file is created", async () => {
    const db = box.file("never-created.db");
    const result = await box.cli(["init"], { KEEPWARM_DB: db, KEEPWARM_TZ: "Nowhere/Special" });
    expect(result.code).toBe(1);
    expect(existsSync(db)).toBe(false);
  });
});
