import { z } from "zod";
import { ATTRIBUTE_FACT, FACTS } from "./facts/catalog";
import { OPERATOR_NAMES } from "./operators";
import { ruleFileSchema } from "./rule-file";

/** A fact name: each one of the catalog with its description (an editor shows it), or attributes.<name>. */
function factDef(): Record<string, unknown> {
  return {
    description: "A fact of the customer: docs/rules.md lists them.",
    anyOf: [
      ...FACTS.definitions.map((d) => ({ const: d.name, description: `${d.type}${d.nullable ? " or null" : ""}: ${d.description}` })),
      { type: "string", pattern: ATTRIBUTE_FACT.source, description: "An extra column of the customers CSV; null when absent." },
    ],
  };
}

/** Every `fact` of a health component gets the same list as a condition's. */
function linkComponentFacts(node: unknown): void {
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  const properties = record.properties as Record<string, unknown> | undefined;
  if (properties !== undefined && "fact" in properties && "bands" in properties) properties.fact = { $ref: "#/$defs/fact" };
  for (const value of Object.values(record)) linkComponentFacts(value);
}

const conditionDefs = () => ({
  condition: {
    description: "A group (all / any / not) or a single fact comparison.",
    anyOf: [{ $ref: "#/$defs/group" }, { $ref: "#/$defs/leaf" }],
  },
  group: {
    anyOf: [
      {
        type: "object",
        properties: { all: { type: "array", minItems: 1, items: { $ref: "#/$defs/condition" } }, name: { type: "string" } },
        required: ["all"],
        additionalProperties: false,
      },
      {
        type: "object",
        properties: { any: { type: "array", minItems: 1, items: { $ref: "#/$defs/condition" } }, name: { type: "string" } },
        required: ["any"],
        additionalProperties: false,
      },
      { type: "object", properties: { not: { $ref: "#/$defs/condition" }, name: { type: "string" } }, required: ["not"], additionalProperties: false },
    ],
  },
  leaf: {
    type: "object",
    properties: {
      fact: { $ref: "#/$defs/fact" },
      operator: { enum: OPERATOR_NAMES },
      value: {
        anyOf: [
          { type: ["string", "number", "boolean", "null"] },
          { type: "array", items: { type: ["string", "number", "boolean"] }, minItems: 1 },
          { type: "object", properties: { fact: { type: "string" } }, required: ["fact"], additionalProperties: false },
        ],
      },
      name: { type: "string" },
    },
    required: ["fact", "operator", "value"],
    additionalProperties: false,
  },
  fact: factDef(),
});

/** JSON Schema of the rule file, generated from the zod schema, for editors (`"$schema"`). */
export function ruleFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ruleFileSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const rules = (schema.properties as Record<string, { items: { properties: Record<string, unknown> } }>).rules;
  if (rules !== undefined) rules.items.properties.conditions = { $ref: "#/$defs/group" };
  linkComponentFacts((schema.properties as Record<string, unknown>).health);
  return {
    ...schema,
    $id: "https://keepwarm.dev/schemas/rules.schema.json",
    title: "keepwarm rule file",
    $defs: { ...((schema.$defs as Record<string, unknown>) ?? {}), ...conditionDefs() },
  };
}
