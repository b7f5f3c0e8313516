import { readFileSync } from "node:fs";
import { REPO_ROOT } from "@keepwarm/testkit";
import { describe, expect, it } from "vitest";
import { factTableMarkdown, FACT_TABLE_BEGIN, FACT_TABLE_END, ruleFileJsonSchema, SCHEMA_PATH } from "../src/index";

// Both are generated from the fact definitions: `npx tsx scripts/generate-facts.ts` rewrites them.
describe("files generated from the fact definitions", () => {
  it("the checked-in JSON Schema is the one the definitions and the zod schema generate", () => {
    expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(`${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`);
  });

  it("the fact table of docs/rules.md is the one the definitions generate", () => {
    const doc = readFileSync(`${REPO_ROOT}docs/rules.md`, "utf8");
    const table = doc.slice(doc.indexOf(FACT_TABLE_BEGIN) + FACT_TABLE_BEGIN.length, doc.indexOf(FACT_TABLE_END)).trim();
    expect(table).toBe(factTableMarkdown());
  });
});
