/**
 * The operators of json-rules-engine 7.3.1, copied exactly (engine-default-operators.js):
 * the compiled fast path must agree with the engine on every input, coercions included.
 */
const numberValidator = (factValue: unknown): boolean => Number.parseFloat(factValue as string).toString() !== "NaN";

export interface OperatorSpec {
  evaluate(factValue: unknown, value: unknown): boolean;
  /** What the value must be, for validation. */
  valueKind: "scalar" | "number" | "array";
  /** Fact types the operator makes sense for. */
  factTypes: readonly FactType[];
  phrase: string;
}
export type FactType = "number" | "string" | "boolean" | "any";

// biome-ignore lint/suspicious/noExplicitAny: mirrors the engine's untyped callbacks
type Cb = (a: any, b: any) => boolean;
const op = (cb: Cb, validator: ((v: unknown) => boolean) | null) => (validator === null ? cb : (a: unknown, b: unknown) => validator(a) && cb(a, b));

export const OPERATORS = {
  equal: { evaluate: op((a, b) => a === b, null), valueKind: "scalar", factTypes: ["number", "string", "boolean", "any"], phrase: "is" },
  notEqual: { evaluate: op((a, b) => a !== b, null), valueKind: "scalar", factTypes: ["number", "string", "boolean", "any"], phrase: "is not" },
  in: { evaluate: op((a, b) => b.indexOf(a) > -1, null), valueKind: "array", factTypes: ["number", "string", "any"], phrase: "is one of" },
  notIn: { evaluate: op((a, b) => b.indexOf(a) === -1, null), valueKind: "array", factTypes: ["number", "string", "any"], phrase: "is none of" },
  lessThan: { evaluate: op((a, b) => a < b, numberValidator), valueKind: "number", factTypes: ["number", "any"], phrase: "<" },
  lessThanInclusive: { evaluate: op((a, b) => a <= b, numberValidator), valueKind: "number", factTypes: ["number", "any"], phrase: "≤" },
  greaterThan: { evaluate: op((a, b) => a > b, numberValidator), valueKind: "number", factTypes: ["number", "any"], phrase: ">" },
  greaterThanInclusive: { evaluate: op((a, b) => a >= b, numberValidator), valueKind: "number", factTypes: ["number", "any"], phrase: "≥" },
} as const satisfies Record<string, OperatorSpec>;

export type OperatorName = keyof typeof OPERATORS;
export const OPERATOR_NAMES = Object.keys(OPERATORS) as OperatorName[];

export function isOperatorName(name: string): name is OperatorName {
  return Object.hasOwn(OPERATORS, name);
}
