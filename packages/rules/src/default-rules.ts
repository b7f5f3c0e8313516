import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The rule file that ships with keepwarm; `keepwarm init` activates it as version 1. */
export const DEFAULT_RULES_PATH = fileURLToPath(new URL("../rules/default.rules.json", import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL("../rules/keepwarm-rules.schema.json", import.meta.url));

export const defaultRulesText = (): string => readFileSync(DEFAULT_RULES_PATH, "utf8");
