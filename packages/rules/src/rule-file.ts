import { z } from "zod";
import { type HealthConfig, healthSchema } from "./health";
import type { OperatorName } from "./operators";

export const PRIORITIES = { low: 1, normal: 2, high: 3, urgent: 4 } as const;
export type Priority = keyof typeof PRIORITIES;

export type ConditionValue = string | number | boolean | null | Array<string | number | boolean> | { fact: string };
export interface LeafCondition {
  fact: string;
  operator: OperatorName;
  value: ConditionValue;
  name?: string;
}
export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };
/** A rule's top level is a group, as json-rules-engine requires. */
export type TopCondition = { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const LIMITS = {
  fileBytes: 256 * 1024,
  rules: 200,
  conditionsPerRule: 64,
  depth: 6,
  stringLength: 200,
  arrayLength: 100,
} as const;

// Destination: "owner" (DM to the customer's owner), a channel name "#cs-alerts" or a channel id "C0123ABCD".
export const DESTINATION = /^(owner|#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,20})$/;

export const ESCALATE_TO = /^(#[a-z0-9][a-z0-9._-]{0,79}|[CGUW][A-Z0-9]{6,20})$/;

const messageSchema = z.string().min(1, "must not be empty").max(1000, "at most 1000 characters");
const actionSchema = z.string().max(200, "at most 200 characters");

/** A second version of a rule's message: half the customers (stably) get it, and `stats` compares the two. */
export const variantSchema = z.object({ message: messageSchema, action: actionSchema.optional() }).strict();

export const nudgeSchema = z
  .object({
    message: messageSchema,
    action: actionSchema.optional(),
    // Version "b" of the message for an A/B test; the rule's own message and action are version "a".
    variantB: variantSchema.optional(),
    destination: z.string().regex(DESTINATION, 'must be "owner", a channel name like "#cs-alerts", or a channel id like "C0123ABCD"').default("owner"),
    priority: z.enum(Object.keys(PRIORITIES) as [Priority, ...Priority[]]).default("normal"),
    cooldownDays: z.number().int("must be a whole number of days").min(0, "must be ≥ 0").max(365, "must be ≤ 365").default(14),
    holdoutPercent: z.number().min(0, "must be ≥ 0").max(50, "must be ≤ 50").default(0),
    resolveOnTouch: z.boolean().default(true),
    // Reps may turn this rule off for themselves in their preferences (App Home); without it they choose only DM or digest.
    allowMute: z.boolean().default(false),
    escalateAfterDays: z.number().int("must be a whole number of days").min(1, "must be ≥ 1").max(90, "must be ≤ 90").optional(),
    // Where an escalation goes instead of the owner's manager: a channel or a person.
    escalateTo: z
      .string()
      .regex(ESCALATE_TO, 'must be a channel name like "#cs-leads", a channel id like "C0123ABCD" or a user id like "U0123ABCD"')
      .optional(),
  })
  .strict();

export const RULE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const ruleSchema = z
  .object({
    id: z.string().regex(RULE_ID, "must be lowercase letters, digits, '.', '_' or '-', at most 64 characters"),
    name: z.string().min(1, "must not be empty").max(120, "at most 120 characters"),
    description: z.string().max(2000).optional(),
    enabled: z.boolean().default(true),
    // Checked by validateConditions, which gives path-precise messages zod unions cannot.
    conditions: z.unknown(),
    nudge: nudgeSchema,
  })
  .strict();

export const ruleFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().max(2000).optional(),
    rules: z.array(ruleSchema).max(LIMITS.rules, `at most ${LIMITS.rules} rules`),
    /** The health score's definition (see health.ts): what `healthScore` and its kin compute. */
    health: healthSchema.optional(),
  })
  .strict();

export type RuleInput = z.input<typeof ruleSchema>;
export type Rule = Omit<z.output<typeof ruleSchema>, "conditions"> & { conditions: TopCondition };
export type RuleFile = Omit<z.output<typeof ruleFileSchema>, "rules" | "health"> & { rules: Rule[]; health?: HealthConfig | undefined };
