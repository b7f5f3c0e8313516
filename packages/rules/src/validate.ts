import type { z } from "zod";
import { normaliseName } from "./attribute-name";
import { FACTS, factType } from "./facts/catalog";
import { isOperatorName, OPERATOR_NAMES, OPERATORS } from "./operators";
import { LIMITS, type Rule, type RuleFile, ruleFileSchema } from "./rule-file";
import { didYouMean } from "./suggest";
import { templateErrors } from "./template";

export interface ValidationError {
  path: string;
  message: string;
}
export type ValidationResult = { valid: true; ruleFile: RuleFile; errors: [] } | { valid: false; errors: ValidationError[] };

export const formatError = (error: ValidationError): string => (error.path === "" ? error.message : `${error.path}: ${error.message}`);

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Parse and validate the text of a rule file. Never throws for bad input. */
export function validateRuleFileText(text: string): ValidationResult {
  if (Buffer.byteLength(text, "utf8") > LIMITS.fileBytes) {
    return { valid: false, errors: [{ path: "", message: `rule file is larger than ${LIMITS.fileBytes / 1024} KiB` }] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { valid: false, errors: [{ path: "", message: `not valid JSON: ${(error as Error).message}` }] };
  }
  return validateRuleFile(value);
}

const KEYS_BY_LEVEL: Record<string, readonly string[]> = {
  file: ["$schema", "description", "rules", "health"],
  rule: ["id", "name", "description", "enabled", "conditions", "nudge"],
  nudge: [
    "message",
    "action",
    "variantB",
    "destination",
    "priority",
    "cooldownDays",
    "holdoutPercent",
    "resolveOnTouch",
    "allowMute",
    "escalateAfterDays",
    "escalateTo",
  ],
  variant: ["message", "action"],
  health: ["description", "grades", "default", "segments"],
  grades: ["A", "B", "C", "D"],
  profile: ["components"],
  component: ["name", "fact", "weight", "bands", "ifNull"],
  band: ["min", "max", "is", "score"],
};

function levelOf(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return "file";
  if (path[0] === "health") {
    const last = path[path.length - 1];
    if (path.length === 1) return "health";
    if (last === "grades") return "grades";
    if (typeof last === "number") return path[path.length - 2] === "bands" ? "band" : "component";
    return "profile";
  }
  if (path.length === 2) return "rule";
  return path[3] === "variantB" ? "variant" : "nudge";
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

const EXPECTED: Record<string, string> = { array: "a list", object: "an object", int: "a whole number" };

// zod 4 leaves `input` off its issues, so whether a key is missing is read from the value itself.
function zodErrors(error: z.ZodError, input: unknown): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        errors.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key "${key}"${didYouMean(key, KEYS_BY_LEVEL[levelOf(issue.path)] ?? [])}`,
        });
      }
    } else if (issue.code === "invalid_key") {
      // A record key (a health segment name) that failed its own check: that check's words.
      errors.push({ path: formatPath(issue.path), message: issue.issues[0]?.message ?? issue.message });
    } else if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
      errors.push({ path: formatPath(issue.path), message: "is required" });
    } else if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input: expected ")) {
      const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
      errors.push({ path: formatPath(issue.path), message: `must be ${expected}; got ${describeValue(valueAt(input, issue.path))}` });
    } else {
      errors.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return errors;
}

export function validateRuleFile(value: unknown): ValidationResult {
  const parsed = ruleFileSchema.safeParse(value);
  const errors: ValidationError[] = parsed.success ? [] : zodErrors(parsed.error, value);
  const rawRules = isRecord(value) && Array.isArray(value.rules) ? value.rules : [];
  const seen = new Map<string, number>();
  const hasHealth = isRecord(value) && value.health !== undefined;
  if (isRecord(value) && isRecord(value.health)) checkHealth(value.health, errors);
  rawRules.forEach((rule: unknown, index) => {
    if (!isRecord(rule)) return;
    if (typeof rule.id === "string") {
      const first = seen.get(rule.id);
      if (first !== undefined) errors.push({ path: `rules[${index}].id`, message: `duplicate rule id "${rule.id}" (also rules[${first}])` });
      else seen.set(rule.id, index);
    }
    if (!("conditions" in rule)) {
      errors.push({ path: `rules[${index}].conditions`, message: "is required" });
    } else {
      const counter = { leaves: 0, hasHealth };
      checkCondition(rule.conditions, `rules[${index}].conditions`, 1, true, errors, counter);
    }
    if (isRecord(rule.nudge) && typeof rule.nudge.message === "string") {
      for (const message of templateErrors(rule.nudge.message)) errors.push({ path: `rules[${index}].nudge.message`, message });
    }
    const variantB = isRecord(rule.nudge) ? rule.nudge.variantB : undefined;
    if (isRecord(variantB) && typeof variantB.message === "string") {
      for (const message of templateErrors(variantB.message)) errors.push({ path: `rules[${index}].nudge.variantB.message`, message });
    }
  });
  if (errors.length > 0 || !parsed.success) return { valid: false, errors };
  const ruleFile = parsed.data as RuleFile;
  ruleFile.rules = parsed.data.rules.map((rule, index) => ({ ...rule, conditions: (rawRules[index] as Record<string, unknown>).conditions }) as Rule);
  return { valid: true, ruleFile, errors: [] };
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

const GROUP_HINT = 'must be a group: {"all": [...]}, {"any": [...]} or {"not": {...}}';

function checkCondition(node: unknown, path: string, depth: number, top: boolean, errors: ValidationError[], counter: Counter): void {
  if (depth > LIMITS.depth) {
    errors.push({ path, message: `conditions nest deeper than ${LIMITS.depth} levels` });
    return;
  }
  if (!isRecord(node)) {
    errors.push({ path, message: top ? GROUP_HINT : 'must be an object: a group ("all", "any", "not") or a condition ("fact", "operator", "value")' });
    return;
  }
  if ("condition" in node) {
    errors.push({ path: `${path}.condition`, message: "shared conditions are not supported; write the conditions inline" });
    return;
  }
  const groupKeys = ["all", "any", "not"].filter((key) => key in node);
  if (groupKeys.length > 1) {
    errors.push({ path, message: `has both ${groupKeys.map((k) => `"${k}"`).join(" and ")}; use one group per object` });
    return;
  }
  const groupKey = groupKeys[0];
  if (groupKey !== undefined) {
    for (const key of Object.keys(node)) {
      if (key !== groupKey && key !== "name") errors.push({ path: `${path}.${key}`, message: `unexpected key "${key}" beside "${groupKey}"` });
    }
    const child = node[groupKey];
    if (groupKey === "not") {
      checkCondition(child, `${path}.not`, depth + 1, false, errors, counter);
      return;
    }
    if (!Array.isArray(child)) {
      errors.push({ path: `${path}.${groupKey}`, message: "must be a list of conditions" });
      return;
    }
    if (child.length === 0) {
      errors.push({ path: `${path}.${groupKey}`, message: "empty condition group: add a condition or remove the group" });
      return;
    }
    child.forEach((item, index) => {
      checkCondition(item, `${path}.${groupKey}[${index}]`, depth + 1, false, errors, counter);
    });
    return;
  }
  if (top) {
    errors.push({ path, message: GROUP_HINT });
    return;
  }
  counter.leaves += 1;
  if (counter.leaves === LIMITS.conditionsPerRule + 1) {
    errors.push({ path, message: `more than ${LIMITS.conditionsPerRule} conditions in one rule` });
  }
  checkLeaf(node, path, errors, counter.hasHealth);
}

interface Counter {
  leaves: number;
  /** The file has a health block: the health facts exist. */
  hasHealth: boolean;
}

function checkLeaf(node: Record<string, unknown>, path: string, errors: ValidationError[], hasHealth: boolean): void {
  for (const key of Object.keys(node)) {
    if (key === "path") {
      errors.push({ path: `${path}.path`, message: 'JSONPath "path" is not allowed: a rule file cannot run expressions' });
    } else if (key === "params") {
      errors.push({ path: `${path}.params`, message: '"params" is not supported: keepwarm facts take no parameters' });
    } else if (!["fact", "operator", "value", "name"].includes(key)) {
      errors.push({ path: `${path}.${key}`, message: `unknown key "${key}"${didYouMean(key, ["fact", "operator", "value", "name"])}` });
    }
  }
  const { fact, operator } = node;
  let type: ReturnType<typeof factType>;
  if (typeof fact !== "string") {
    errors.push({ path: `${path}.fact`, message: fact === undefined ? "is required" : "must be a fact name (a string)" });
  } else {
    type = factType(fact);
    if (type !== undefined && !hasHealth && FACTS.get(fact)?.requires === "health") {
      errors.push({ path: `${path}.fact`, message: `fact "${fact}" needs a "health" block in the rule file (see docs/rules.md, "Health score")` });
    }
    if (type === undefined) {
      const hint = fact.startsWith("attributes.") ? attributeHint(fact.slice("attributes.".length)) : didYouMean(fact, FACTS.names);
      errors.push({ path: `${path}.fact`, message: `unknown fact "${fact}"${hint}` });
    }
  }
  if (typeof operator !== "string") {
    errors.push({ path: `${path}.operator`, message: operator === undefined ? "is required" : "must be an operator name (a string)" });
    return;
  }
  if (!isOperatorName(operator)) {
    const hint =
      operator === "contains" || operator === "doesNotContain" ? ': no keepwarm fact is a list; use "in" or "notIn"' : didYouMean(operator, OPERATOR_NAMES);
    errors.push({ path: `${path}.operator`, message: `unknown operator "${operator}"${hint}` });
    return;
  }
  const spec = OPERATORS[operator];
  if (type !== undefined && !(spec.factTypes as readonly string[]).includes(type)) {
    errors.push({ path: `${path}.operator`, message: `operator "${operator}" compares numbers, but fact "${String(fact)}" is ${describeType(type)}` });
    return;
  }
  if (!("value" in node)) {
    errors.push({ path: `${path}.value`, message: "is required" });
    return;
  }
  checkValue(node.value, `${path}.value`, String(fact), type, spec.valueKind, errors);
}

/** For an attribute name the import would never store: the name it stores for that column. */
function attributeHint(name: string): string {
  const stored = normaliseName(name);
  if (stored === "") return " (attribute names are lower-case letters, digits, '_' or '-')";
  return ` (the import stores this column as "attributes.${stored}": names are lower case, spaces and other signs become '_')`;
}

const describeType = (type: string): string => (type === "boolean" ? "true/false" : type === "any" ? "an attribute" : `a ${type}`);

function checkValue(
  value: unknown,
  path: string,
  fact: string,
  type: ReturnType<typeof factType>,
  kind: "scalar" | "number" | "array",
  errors: ValidationError[],
): void {
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || typeof value.fact !== "string") {
      errors.push({ path, message: 'an object value must be a fact reference: {"fact": "<name>"}' });
      return;
    }
    const refType = factType(value.fact);
    if (refType === undefined) errors.push({ path: `${path}.fact`, message: `unknown fact "${value.fact}"${didYouMean(value.fact, FACTS.names)}` });
    else if (kind === "array") errors.push({ path, message: "a list operator needs a list value, not a fact reference" });
    return;
  }
  const got = describeValue(value);
  if (kind === "array") {
    if (!Array.isArray(value)) {
      errors.push({ path, message: `must be a list, e.g. ["a", "b"]; got ${got}` });
      return;
    }
    if (value.length === 0) errors.push({ path, message: "must not be an empty list" });
    if (value.length > LIMITS.arrayLength) errors.push({ path, message: `at most ${LIMITS.arrayLength} items` });
    value.forEach((item, index) => {
      checkScalar(item, `${path}[${index}]`, fact, type, false, errors);
    });
    return;
  }
  if (kind === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      errors.push({ path, message: `fact "${fact}" is compared as a number; got ${got}` });
    }
    return;
  }
  checkScalar(value, path, fact, type, true, errors);
}

function checkScalar(value: unknown, path: string, fact: string, type: ReturnType<typeof factType>, allowNull: boolean, errors: ValidationError[]): void {
  if (value === null && allowNull) return;
  if (typeof value === "string" && value.length > LIMITS.stringLength) {
    errors.push({ path, message: `string longer than ${LIMITS.stringLength} characters` });
    return;
  }
  const actual = value === null ? "null" : typeof value;
  const typeOk = type === undefined || (type === "any" ? ["string", "number", "boolean"].includes(actual) : actual === type);
  if (!typeOk) errors.push({ path, message: `fact "${fact}" is ${describeType(type ?? "any")}; got ${describeValue(value)}` });
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * What zod cannot see in a health block: components read known facts (not the health
 * score itself), bands fit their fact's type and can all be reached, names are unique
 * within a profile, grade floors descend.
 */
function checkHealth(health: Record<string, unknown>, errors: ValidationError[]): void {
  const profiles: Array<[string, unknown]> = [["health.default", health.default]];
  if (isRecord(health.segments)) for (const [segment, profile] of Object.entries(health.segments)) profiles.push([`health.segments.${segment}`, profile]);
  for (const [path, profile] of profiles) {
    if (!isRecord(profile) || !Array.isArray(profile.components)) continue;
    const names = new Map<string, number>();
    profile.components.forEach((component: unknown, index) => {
      if (!isRecord(component)) return;
      const at = `${path}.components[${index}]`;
      const name = typeof component.name === "string" ? component.name : typeof component.fact === "string" ? component.fact : undefined;
      if (name !== undefined) {
        const first = names.get(name);
        if (first !== undefined)
          errors.push({ path: `${at}.name`, message: `two components are called "${name}" (also components[${first}]); give them different "name"s` });
        else names.set(name, index);
      }
      if (typeof component.fact !== "string") return;
      const type = factType(component.fact);
      if (type === undefined) {
        errors.push({ path: `${at}.fact`, message: `unknown fact "${component.fact}"${didYouMean(component.fact, FACTS.names)}` });
        return;
      }
      if (FACTS.get(component.fact)?.requires === "health") {
        errors.push({ path: `${at}.fact`, message: `a component cannot read "${component.fact}": the score would be computed from itself` });
        return;
      }
      if (Array.isArray(component.bands)) checkBands(component.bands, `${at}.bands`, component.fact, type, errors);
    });
  }
  if (isRecord(health.grades)) {
    const floors = ["A", "B", "C", "D"].map((grade) => (health.grades as Record<string, unknown>)[grade]);
    if (floors.every((f) => typeof f === "number") && !(floors as number[]).every((f, i, all) => i === 0 || (all[i - 1] as number) > f)) {
      errors.push({ path: "health.grades", message: "grade floors must descend: A > B > C > D" });
    }
  }
}

function checkBands(bands: unknown[], path: string, fact: string, type: string, errors: ValidationError[]): void {
  const numeric = type === "number";
  bands.forEach((band: unknown, index) => {
    if (!isRecord(band)) return;
    const at = `${path}[${index}]`;
    if (numeric && "is" in band) errors.push({ path: `${at}.is`, message: `fact "${fact}" is a number: bands use "min" and "max"` });
    if (!numeric && type !== "any" && ("min" in band || "max" in band)) {
      errors.push({ path: `${at}.${"min" in band ? "min" : "max"}`, message: `fact "${fact}" is ${describeType(type)}: bands use "is"` });
    }
    if (typeof band.min === "number" && typeof band.max === "number" && band.min > band.max)
      errors.push({ path: `${at}.max`, message: `must be ≥ min (${band.min})` });
    if ("is" in band && !numeric && type !== "any") {
      const values = Array.isArray(band.is) ? band.is : [band.is];
      values.forEach((v, i) => {
        if (typeof v !== type)
          errors.push({
            path: Array.isArray(band.is) ? `${at}.is[${i}]` : `${at}.is`,
            message: `fact "${fact}" is ${describeType(type)}; got ${describeValue(v)}`,
          });
      });
    }
    const catchAll = !("min" in band) && !("max" in band) && !("is" in band);
    if (catchAll && index < bands.length - 1) {
      errors.push({ path: `${path}[${index + 1}]`, message: `never used: band ${index} has no "min", "max" or "is", so it holds for every value` });
    }
  });
}
