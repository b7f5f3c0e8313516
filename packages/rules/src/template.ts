import { FACTS } from "./facts/catalog";
import type { Facts } from "./facts/definition";

/** Variables a nudge template may use besides the facts ({{daysSinceLastTouch}}, …) and {{attributes.<name>}}. */
export const CONTEXT_VARIABLES = [
  "customer.name",
  "customer.id",
  "customer.segment",
  "customer.tier",
  "customer.lifecycleStage",
  "owner",
  "explanation",
  "rule.name",
] as const;

/** Every variable a template may use: the context's and every fact of the catalog. */
export const templateVariables = (): string[] => [...CONTEXT_VARIABLES, ...FACTS.names];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function templateErrors(template: string): string[] {
  const errors: string[] = [];
  const stripped = template.replace(PLACEHOLDER, (_, name: string) => {
    if (!(CONTEXT_VARIABLES as readonly string[]).includes(name) && FACTS.get(name) === undefined && !/^attributes\.[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      errors.push(`unknown template variable "{{${name}}}"; use one of {{customer.name}}, {{explanation}}, {{owner}}, a fact name or attributes.<name>`);
    }
    return "";
  });
  if (stripped.includes("{{") || stripped.includes("}}")) errors.push('unbalanced "{{" or "}}" in template');
  return errors;
}

export interface TemplateContext {
  customer: { name: string; id: string; segment: string | null; tier: string | null; lifecycleStage: string | null };
  owner: string | null;
  explanation: string;
  ruleName: string;
  facts: Facts;
  attributes: Record<string, unknown>;
}

export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(name, context);
    return value === null || value === undefined ? "—" : String(value);
  });
}

function lookup(name: string, context: TemplateContext): unknown {
  switch (name) {
    case "customer.name":
      return context.customer.name;
    case "customer.id":
      return context.customer.id;
    case "customer.segment":
      return context.customer.segment;
    case "customer.tier":
      return context.customer.tier;
    case "customer.lifecycleStage":
      return context.customer.lifecycleStage;
    case "owner":
      return context.owner === null ? "nobody" : `<@${context.owner}>`;
    case "explanation":
      return context.explanation;
    case "rule.name":
      return context.ruleName;
  }
  if (name.startsWith("attributes.")) return context.attributes[name.slice("attributes.".length)];
  return context.facts[name];
}
