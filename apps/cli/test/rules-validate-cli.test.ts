import { defaultRulesText } from "@keepwarm/rules";
import { afterAll, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError } from "./spine-fixtures";

const box = cliSandbox();
afterAll(() => box.cleanup());

const typo = (() => {
  const file = JSON.parse(defaultRulesText());
  file.rules[1].conditions.all[1].fact = "daysSinceLastTuch";
  file.rules[2].conditions.all[0].path = "$.x";
  return JSON.stringify(file, null, 2);
})();

describe("keepwarm rules validate", () => {
  it("--json prints { valid: true, errors: [], warnings: [] } for the default rules", async () => {
    const result = await box.cli(["rules", "validate", "packages/rules/rules/default.rules.json", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it("--json prints { valid: false, errors: [{ path, message }] } and exits 1 for an invalid file", async () => {
    const result = await box.cli(["rules", "validate", box.file("typo.json", typo), "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      warnings: [],
      errors: [
        { path: "rules[1].conditions.all[1].fact", message: 'unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)' },
        { path: "rules[2].conditions.all[0].path", message: 'JSONPath "path" is not allowed: a rule file cannot run expressions' },
      ],
    });
  });

  it("prints each error with its path on stderr, then one summary line", async () => {
    const result = await box.cli(["rules", "validate", box.file("typo.json", typo)]);
    expectUserError(result, /typo\.json is invalid \(2 errors\)/);
    expect(result.stderr).toContain('typo.json: rules[1].conditions.all[1].fact: unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)');
  });

  it("rejects a missing rule file in one line", async () => {
    expectUserError(await box.cli(["rules", "validate", box.file("absent.json")]), /cannot read .*absent\.json: no such file/);
  });
});

describe("keepwarm rules apply", () => {
  const activeVersions = () => box.withStore((store) => store.db.selectFrom("rule_sets").select(["id", "active"]).orderBy("id").execute());

  it("an invalid file leaves the active version unchanged", async () => {
    expect((await box.cli(["init"])).code).toBe(0);
    const before = await activeVersions();
    expect(before).toEqual([{ id: 1, active: 1 }]);
    const result = await box.cli(["rules", "apply", box.file("typo.json", typo)]);
    expectUserError(result, /typo\.json is invalid; the active rules are unchanged/);
    expect(await activeVersions()).toEqual(before);
    const json = await box.cli(["rules", "apply", box.file("typo.json"), "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ applied: false, valid: false });
    expect(await activeVersions()).toEqual(before);
  });

  it("a valid changed file becomes the next active version", async () => {
    const file = JSON.parse(defaultRulesText());
    file.rules[1].conditions.all[1].value = 45;
    const result = await box.cli(["rules", "apply", box.file("tighter.json", JSON.stringify(file)), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ applied: true, version: 2 });
    expect(await activeVersions()).toEqual([
      { id: 1, active: 0 },
      { id: 2, active: 1 },
    ]);
  });
});
