import { z } from "zod";
import { FACT_NAMES } from "./facts";
import { OPERATOR_NAMES } from "./operators";
import { ruleFileSchema } from "./rule-file";

const conditionDefs = {
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
      fact: { anyOf: [{ enum: FACT_NAMES }, { type: "string", pattern: "^attributes\\.[A-Za-z_][A-Za-z0-9_-]{0,63}$" }] },
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
};

/** JSON Schema of the rule file, generated from the zod schema, for editors (`"$schema"`). */
export function ruleFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ruleFileSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const rules = (schema.properties as Record<string, { items: { properties: Record<string, unknown> } }>).rules;
  if (rules !== undefined) rules.items.properties.conditions = { $ref: "#/$defs/group" };
  return {
    ...schema,
    $id: "https://keepwarm.dev/schemas/rules.schema.json",
    title: "keepwarm rule file",
    $defs: { ...((schema.$defs as Record<string, unknown>) ?? {}), ...conditionDefs },
  };
}
