// Regenerate what the fact definitions (packages/rules/src/facts) and the rule-file
// schema produce: the JSON Schema editors read, and the fact table of docs/rules.md.
// Tests fail when a checked-in copy differs from what this writes.
//   npx tsx scripts/generate-facts.ts
import { readFileSync, writeFileSync } from "node:fs";
import { ruleFileJsonSchema, SCHEMA_PATH, withFactTable } from "../packages/rules/src/index";

const DOCS = new URL("../docs/rules.md", import.meta.url);
writeFileSync(SCHEMA_PATH, `${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`);
writeFileSync(DOCS, withFactTable(readFileSync(DOCS, "utf8")));
console.log(`wrote ${SCHEMA_PATH} and the fact table of docs/rules.md`);
