import { readFileSync } from "node:fs";
import { ruleFileJsonSchema, SCHEMA_PATH } from "@keepwarm/rules";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVE_RULES, CANDIDATE_RULES } from "../../../packages/core/test/rules-history-fixture";

const tmp = tempDir("keepwarm-rules-review-");
const env = { KEEPWARM_DB: "", KEEPWARM_TZ: "UTC" };
const v1Text = `${JSON.stringify(ACTIVE_RULES, null, 2)}\n`;
const v1 = tmp.file("v1.json", v1Text);
const v2 = tmp.file("v2.json", JSON.stringify(CANDIDATE_RULES, null, 2));

beforeAll(async () => {
  env.KEEPWARM_DB = await freshDatabase(tmp, "k.db");
  expect((await runCli(["rules", "apply", v1, "--author", "ann"], env)).code).toBe(0);
});
afterAll(() => tmp.cleanup());

describe("keepwarm rules diff", () => {
  it("compares a file with the active version rule by rule, with the changed fields and values", async () => {
    const result = await runCli(["rules", "diff", v2], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      `${v2} against active version 1:`,
      "  ~ quiet-10  changed: conditions, nudge.cooldownDays",
      "      conditions.all[1].value: 10 → 7",
      '      conditions.all[2]: (none) → {"fact":"neverTouched","operator":"equal","value":false}',
      "      nudge.cooldownDays: 3 → 2",
      "  = buyer  unchanged",
      "  + renewal-soon  added",
      "  - nps-low  removed",
      "summary: 1 added (renewal-soon), 1 changed (quiet-10: conditions, nudge.cooldownDays), 1 removed (nps-low)",
      "",
    ]);
  });

  it("gives the same as JSON", async () => {
    const result = await runCli(["rules", "diff", v2, "--json"], env);
    const diff = JSON.parse(result.stdout);
    expect(diff).toMatchObject({ activeVersion: 1, added: 1, removed: 1, changed: 1, unchanged: 1 });
    expect(diff.rules[0]).toMatchObject({ ruleId: "quiet-10", fields: ["conditions", "nudge.cooldownDays"] });
  });
});

describe("history, rollback and export", () => {
  it("appends versions, rolls back as a new version, and exports each exactly as stored", async () => {
    expect((await runCli(["rules", "apply", v2, "--author", "bob", "--note", "tighter"], env)).stdout).toContain("as rules version 2");
    const rollback = await runCli(["rules", "rollback", "v1", "--author", "carol"], env);
    expect(rollback.stderr).toBe("");
    expect(rollback.stdout).toBe("rolled back to v1: its rules are now active as version 3\n");

    const history = await runCli(["rules", "history"], env);
    const lines = history.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ {2}version +time \(UTC\) +author +source +rules +note$/);
    expect(lines[1]).toMatch(/^ {2}v1 +\d{4}-\d\d-\d\d \d\d:\d\d +ann +\S*v1\.json +3$/);
    expect(lines[2]).toMatch(/^ {2}v2 .* bob +\S*v2\.json +3 +tighter$/);
    expect(lines[3]).toMatch(/^\* v3 .* carol +rollback of v1 +3 +rollback to v1$/);

    const json = JSON.parse((await runCli(["rules", "history", "--json"], env)).stdout);
    expect(json.versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);

    expect((await runCli(["rules", "export"], env)).stdout).toBe(v1Text);
    const out = tmp.file("exported-v2.json");
    expect((await runCli(["rules", "export", "--version", "2", "--out", out], env)).stdout).toBe(`wrote rules version 2 to ${out}\n`);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(v2, "utf8"));
  });

  it.each([
    [["rollback", "42"], /^keepwarm: error: unknown rules version 42: versions are 1–\d+$/],
    [["rollback", "latest"], /^keepwarm: error: "latest" is not a rules version/],
    [["rollback"], /^keepwarm: error: keepwarm rules rollback: missing VERSION \(see keepwarm rules rollback --help\)$/],
    [["export", "--version", "42"], /^keepwarm: error: unknown rules version 42/],
    [["diff", tmp.file("missing.json")], /^keepwarm: error: cannot read .*missing\.json: no such file$/],
    [["history", "extra"], /^keepwarm: error: keepwarm rules history: unexpected argument "extra"/],
    [["frobnicate"], /^keepwarm: error: unknown rules subcommand "frobnicate" \(see keepwarm rules --help\)$/],
  ])("refuses %j with exit 1 and one error line", async (args, message) => {
    const result = await runCli(["rules", ...args], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("kept the three versions through all of those refusals", async () => {
    const json = JSON.parse((await runCli(["rules", "history", "--json"], env)).stdout);
    expect(json.versions).toHaveLength(3);
  });
});

describe("keepwarm rules schema", () => {
  it("prints the JSON Schema generated from the zod schema", async () => {
    const result = await runCli(["rules", "schema"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(ruleFileJsonSchema());
  });

  it("matches the checked-in schema file the default rules reference (regenerate: keepwarm rules schema > packages/rules/rules/keepwarm-rules.schema.json)", () => {
    expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(`${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`);
  });
});
