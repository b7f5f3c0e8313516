import { readFileSync } from "node:fs";
import { CONTEXT_VARIABLES, FACTS, formatError, nudgeSchema, OPERATOR_NAMES, validateRuleFileText } from "@keepwarm/rules";
import { REPO_ROOT } from "@keepwarm/testkit";
import { describe, expect, it } from "vitest";

const doc = readFileSync(`${REPO_ROOT}docs/rules.md`, "utf8");
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");

describe("docs/rules.md", () => {
  it("has worked examples that are valid rule files", () => {
    const files = jsonBlocks.filter((block) => block.includes('"rules"'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const text of files) expect(validateRuleFileText(text).errors.map(formatError)).toEqual([]);
  });

  it("documents every fact, operator, nudge option and template variable", () => {
    for (const fact of FACTS.definitions) expect(doc).toContain(`| \`${fact.name}\` |`);
    for (const operator of OPERATOR_NAMES) expect(doc).toContain(`| \`${operator}\` |`);
    for (const option of Object.keys(nudgeSchema.shape)) expect(doc).toContain(`| \`${option}\` |`);
    for (const variable of CONTEXT_VARIABLES) expect(doc).toContain(`{{${variable}}}`);
  });
});
