import { existsSync, writeFileSync } from "node:fs";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInProcess as runCli } from "./in-process";
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

  it("a mistyped command, subcommand or option gets the nearest name", async () => {
    expect(oneLine((await box.cli(["sweeep"])).stderr)).toBe('keepwarm: error: unknown command "sweeep"; did you mean "sweep"? (see keepwarm --help)');
    expect(oneLine((await box.cli(["rules", "vaildate", "x.json"])).stderr)).toMatch(/unknown rules subcommand "vaildate"; did you mean "validate"\?/);
    const option = await box.cli(["sweep", "--dryrun"]);
    expectUserError(option, /^keepwarm: error: keepwarm sweep: unknown option "--dryrun"; did you mean "--dry-run"\? \(see keepwarm sweep --help\)$/);
    expectUserError(await box.cli(["db", "bakup", "x.db"]), /did you mean "backup"\?/);
  });

  it("missing arguments name what is missing and where the help is, in one line", async () => {
    const result = await box.cli(["import", "customers"]);
    expect(oneLine(result.stderr)).toBe("keepwarm: error: keepwarm import: missing FILE (see keepwarm import --help)");
    expect(result.code).toBe(1);
    expectUserError(await box.cli(["rules", "validate"]), /keepwarm rules validate: missing FILE/);
    expectUserError(await box.cli(["rules", "backtest", "x.json"]), /keepwarm rules backtest: missing --days/);
    const group = await box.cli(["rules"]);
    expect(oneLine(group.stderr)).toMatch(/^keepwarm: error: keepwarm rules: which one\? validate, diff, /);
  });

  it("an unknown option is named", async () => {
    const result = await box.cli(["sweep", "--frob"]);
    expectUserError(result, /unknown option "--frob"/);
    oneLine(result.stderr);
  });

  it("a string option without its value is named", async () => {
    expectUserError(await box.cli(["sweep", "--as-of"]), /--as-of needs a value/);
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

  it.skipIf(process.env.KEEPWARM_TEST_ENGINE === "postgres")("a damaged database file gets one line saying so and what to do, exit 1", async () => {
    const damaged = box.file("damaged.db");
    writeFileSync(damaged, Buffer.alloc(8192, 0x5a));
    const result = await box.cli(["stats"], { KEEPWARM_DB: damaged });
    expect(oneLine(result.stderr)).toMatch(
      /^keepwarm: error: cannot open database "\S+damaged\.db" \(KEEPWARM_DB\): .*damaged or not a keepwarm database; restore the last backup/,
    );
    expect(result.code).toBe(1);
  });

  it("a full disk gets one line saying so, exit 1", async () => {
    // /dev/full answers every write with ENOSPC, as a full disk does.
    const result = await box.cli(["report", "--out", "/dev/full"]);
    expect(oneLine(result.stderr)).toBe("keepwarm: error: cannot write /dev/full: the disk is full: free some space, then run the command again");
    expect(result.code).toBe(1);
  });

  it("an empty PORT is an error naming the variable, not a random port", async () => {
    const result = await box.cli(["doctor"], { PORT: "" });
    expect(oneLine(result.stderr)).toBe('keepwarm: error: PORT="": is empty: set a port number (e.g. 3000) or remove the variable');
    expect(result.code).toBe(1);
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
