import { validateRuleFile } from "@keepwarm/rules";
import { openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyRuleSet, diffRuleFiles, diffSummary, exportRuleSet, listRuleSetVersions, RuleSetConflictError, rollbackRuleSet, UserError } from "../src/index";
import { ACTIVE_RULES, CANDIDATE_RULES } from "./rules-history-fixture";

let tmp: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(async () => {
  tmp = tempDir("keepwarm-versions-");
  store = await openStore(await migratedDatabase(tmp, "k.db"));
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

const parsed = (value: unknown) => {
  const result = validateRuleFile(value);
  if (!result.valid) throw new Error("fixture is invalid");
  return result.ruleFile;
};
const v1Text = `${JSON.stringify(ACTIVE_RULES, null, 2)}\n`;
const v2Text = JSON.stringify(CANDIDATE_RULES);

describe("rule-set versions", () => {
  it("refuses a save based on a version that is no longer active, and writes nothing", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    await applyRuleSet(store, v2Text, { author: "bob", source: "cli" });
    await expect(
      applyRuleSet(store, `${v1Text} `.replace("\n", "\n\n"), { author: "carol", source: "slack", expectedActiveVersion: 1 }),
    ).rejects.toBeInstanceOf(RuleSetConflictError);
    expect((await listRuleSetVersions(store)).map((v) => [v.version, v.active])).toEqual([
      [1, false],
      [2, true],
    ]);
    const saved = await applyRuleSet(store, v1Text, { author: "carol", source: "slack", expectedActiveVersion: 2 });
    expect(saved).toMatchObject({ changed: true, ruleSet: { version: 3 } });
  });

  it("two saves based on the same version at once: one is saved, the other refused, never both", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    const other = structuredClone(ACTIVE_RULES);
    (other.rules[0]?.conditions.all[1] as { value: number }).value = 21;
    const results = await Promise.allSettled(
      [v2Text, JSON.stringify(other)].map((text) => applyRuleSet(store, text, { author: "bob", source: "slack", expectedActiveVersion: 1 })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect(refused?.reason).toBeInstanceOf(RuleSetConflictError);
    expect((await listRuleSetVersions(store)).map((v) => [v.version, v.active])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it("lists every version with author, source, rule count, note and one active marker", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json", now: 1000 });
    await applyRuleSet(store, v2Text, { author: "bob", source: "slack", note: "tighter", now: 2000 });
    expect(await listRuleSetVersions(store)).toEqual([
      { version: 1, createdAt: 1000, author: "ann", source: "rules.json", active: false, ruleCount: 3, note: null },
      { version: 2, createdAt: 2000, author: "bob", source: "slack", active: true, ruleCount: 3, note: "tighter" },
    ]);
  });

  it("rolls back by appending the old JSON as a new active version", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    await applyRuleSet(store, v2Text, { author: "bob", source: "rules.json" });
    const result = await rollbackRuleSet(store, 1, { author: "carol" });
    expect(result).toMatchObject({ changed: true, from: 1, ruleSet: { version: 3 } });
    const versions = await listRuleSetVersions(store);
    expect(versions.map((v) => [v.version, v.active, v.note])).toEqual([
      [1, false, null],
      [2, false, null],
      [3, true, "rollback to v1"],
    ]);
    expect(await exportRuleSet(store)).toEqual({ version: 3, json: v1Text });
  });

  it("does nothing when rolling back to the rules already active", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    const result = await rollbackRuleSet(store, 1, { author: "carol" });
    expect(result.changed).toBe(false);
    expect(await listRuleSetVersions(store)).toHaveLength(1);
  });

  it("refuses an unknown version with a user error and writes nothing", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    await expect(rollbackRuleSet(store, 9, { author: "carol" })).rejects.toThrow(new UserError("unknown rules version 9: versions are 1–1", "unknown_version"));
    await expect(exportRuleSet(store, 9)).rejects.toThrow(/unknown rules version 9/);
    expect(await listRuleSetVersions(store)).toHaveLength(1);
  });

  it("exports a version's JSON exactly as stored, whitespace included", async () => {
    await applyRuleSet(store, v1Text, { author: "ann", source: "rules.json" });
    await applyRuleSet(store, v2Text, { author: "ann", source: "rules.json" });
    expect((await exportRuleSet(store, 1)).json).toBe(v1Text);
    expect(await exportRuleSet(store)).toEqual({ version: 2, json: v2Text });
  });

  it("says plainly when no version is active yet", async () => {
    await expect(exportRuleSet(store)).rejects.toThrow("no rules are active yet (run keepwarm init)");
  });
});

describe("diffRuleFiles", () => {
  it("compares rule by rule and names the fields that changed", () => {
    const diff = diffRuleFiles(parsed(ACTIVE_RULES), parsed(CANDIDATE_RULES));
    expect(diff.rules.map((r) => [r.ruleId, r.status, r.fields])).toEqual([
      ["quiet-10", "changed", ["conditions", "nudge.cooldownDays"]],
      ["buyer", "unchanged", []],
      ["renewal-soon", "added", []],
      ["nps-low", "removed", []],
    ]);
    expect(diff.rules[0]?.changes).toContainEqual({ path: "nudge.cooldownDays", before: 3, after: 2 });
    expect(diffSummary(diff)).toBe("1 added (renewal-soon), 1 changed (quiet-10: conditions, nudge.cooldownDays), 1 removed (nps-low)");
  });

  it("shows a changed threshold at its exact path", () => {
    const edited = structuredClone(ACTIVE_RULES);
    (edited.rules[0]?.conditions.all[1] as { value: number }).value = 21;
    const diff = diffRuleFiles(parsed(ACTIVE_RULES), parsed(edited));
    expect(diff.rules[0]?.changes).toEqual([{ path: "conditions.all[1].value", before: 10, after: 21 }]);
  });

  it("treats writing out a default value as no change, and disabling a rule as a change of enabled", () => {
    const explicit = structuredClone(ACTIVE_RULES) as { rules: Array<Record<string, unknown>> };
    (explicit.rules[0] as { enabled?: boolean }).enabled = true;
    expect(diffSummary(diffRuleFiles(parsed(ACTIVE_RULES), parsed(explicit)))).toBe("no rule changes");
    (explicit.rules[0] as { enabled?: boolean }).enabled = false;
    expect(diffRuleFiles(parsed(ACTIVE_RULES), parsed(explicit)).rules[0]).toMatchObject({ status: "changed", fields: ["enabled"] });
  });
});
