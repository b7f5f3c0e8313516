import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freshDatabase } from "@keepwarm/store/testing";
import { type CliResult, REPO_ROOT, tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { builtCliIsFresh, CLI_DIST } from "../../../scripts/cli-entry.mjs";

// The handful of end-to-end tests on the built CLI (the vitest global setup builds it):
// `node apps/cli/dist/main.js` as an operator runs it, with neither pnpm nor tsx.
const FORBID = fileURLToPath(new URL("./fixtures/forbid-imports.mjs", import.meta.url));
const tmp = tempDir("keepwarm-built-");
afterAll(() => tmp.cleanup());

/** `forbid`: bare imports the run must not make; `forbidCode`: source no module it loads may contain. */
function node(args: string[], env: Record<string, string> = {}, forbid?: RegExp, forbidCode?: RegExp): Promise<CliResult> {
  const flags = forbid === undefined && forbidCode === undefined ? [] : ["--import", FORBID];
  const child = spawn(process.execPath, [...flags, CLI_DIST, ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      KEEPWARM_TZ: "UTC",
      ...(forbid === undefined ? {} : { KEEPWARM_FORBID_IMPORTS: forbid.source }),
      ...(forbidCode === undefined ? {} : { KEEPWARM_FORBID_CODE: forbidCode.source }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe("the built CLI (node apps/cli/dist/main.js)", () => {
  it("is built from the current sources", () => {
    expect(builtCliIsFresh()).toBe(true);
  });

  it("answers --help for the CLI, a command and a subcommand without loading a database driver or Bolt", async () => {
    const heavy = /^(kysely|better-sqlite3|pg|@slack\/bolt|json-rules-engine)$/;
    // kysely is bundled into the build's chunks: no import names it, its code does.
    const bundledKysely = /class Kysely extends/;
    for (const args of [["--help"], ["touch", "--help"], ["rules", "backtest", "--help"], ["--version"]]) {
      const result = await node(args, {}, heavy, bundledKysely);
      expect(result.stderr, args.join(" ")).toBe("");
      expect(result.code, args.join(" ")).toBe(0);
    }
  });

  it("loads the chunk holding kysely for a command that reads the database (the --help check above can fail)", async () => {
    const result = await node(["touch", "C-1"], { KEEPWARM_DB: await freshDatabase(tmp, "forbid.db") }, undefined, /class Kysely extends/);
    expect(result.stderr).toMatch(/forbidden code in .*chunks/);
  });

  it("logs a touch without loading Bolt or json-rules-engine, and a user error is one line with exit 1", async () => {
    const db = await freshDatabase(tmp, "built.db");
    const csv = tmp.file("customers.csv", "id,name,segment\nC-1,Acme Ltd,smb\n");
    expect((await node(["import", "customers", csv], { KEEPWARM_DB: db })).code).toBe(0);
    const touch = await node(["touch", "C-1", "call", "today", "checked in"], { KEEPWARM_DB: db }, /^(@slack\/bolt|json-rules-engine)$/);
    expect(touch.stderr).toBe("");
    expect(touch.stdout).toMatch(/^logged call with Acme Ltd on \d{4}-\d\d-\d\d: checked in$/m);
    const bad = await node(["touch", "Nobody At All"], { KEEPWARM_DB: db });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^keepwarm: error: no customer matches "Nobody At All"[^\n]*\n$/);
  });

  it("ships the default rules with the build: init activates them", async () => {
    const result = await node(["init"], { KEEPWARM_DB: await freshDatabase(tmp, "init.db") });
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/active rules: version 1 \(4 rules: no-contact-enterprise, no-contact, nps-drop, frequent-buyer-no-loyalty\)/);
  });
});
