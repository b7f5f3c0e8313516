import {
  type CustomerRecord,
  explain,
  type HealthModel,
  type PastFacts,
  type Facts,
  factsUsed,
  parseAttributes,
  type Rule,
  renderTemplate,
  templateFacts,
} from "@keepwarm/rules";
import { isHeldOut, type Variant, variantOf } from "./holdout";
import type { Match } from "./match";

/** Facts every nudge message shows when the sweep computed them (the Slack context line, the console). */
const SHOWN_FACTS = ["daysSinceLastTouch", "neverTouched", "lastTouchKind", "npsLatest", "npsPrevious", "healthScore", "healthGrade"];
const storedKeys = new WeakMap<Rule, string[]>();

/**
 * The facts a nudge keeps: those its rule reads, those its template names, and those
 * every message shows. All of them was most of the bytes of a first sweep's writes.
 */
export function storedFactNames(rule: Rule): string[] {
  let keys = storedKeys.get(rule);
  if (keys === undefined) {
    keys = [
      ...new Set([
        ...SHOWN_FACTS,
        ...factsUsed(rule.conditions),
        ...templateFacts(rule.nudge.message),
        ...(rule.nudge.variantB === undefined ? [] : templateFacts(rule.nudge.variantB.message)),
      ]),
    ];
    storedKeys.set(rule, keys);
  }
  return keys;
}

/**
 * A match whose words are written only when read. Most matches of a steady-state
 * sweep or a backtest day already have a live nudge and are never shown, and writing
 * the explanation and the message was most of the cost of a match. Both are pure
 * functions of the rule and the facts, so computing them later changes nothing.
 */
export class LazyMatch implements Match {
  readonly customerId: number;
  readonly customerExternalId: string;
  readonly customerName: string;
  readonly ownerSlackId: string | null;
  readonly lastTouchAt: number | null;
  #explanation: string | undefined;
  #message: string | undefined;

  constructor(
    readonly rule: Rule,
    private readonly row: CustomerRecord,
    readonly facts: Facts,
    /** The health model and the facts of the instants before, for the health score's phrase. */
    private readonly context: { health: HealthModel | undefined; past: PastFacts },
    lastTouchAt: number | null,
  ) {
    this.customerId = row.id;
    this.customerExternalId = row.externalId;
    this.customerName = row.name;
    this.ownerSlackId = row.ownerSlackId;
    // Never touched: the quiet period counts from `since` (or the import), so only a touch after that answers the nudge.
    this.lastTouchAt = lastTouchAt ?? row.sinceAt ?? row.createdAt;
  }

  get heldOut(): boolean {
    return isHeldOut(this.rule.id, this.row.externalId, this.rule.nudge.holdoutPercent);
  }

  get variant(): Variant | null {
    return this.rule.nudge.variantB === undefined ? null : variantOf(this.rule.id, this.row.externalId);
  }

  get explanation(): string {
    const { context, facts, row } = this;
    this.#explanation ??= explain(this.rule, facts, { health: context.health, past: context.past, segment: row.segment });
    return this.#explanation;
  }

  get message(): string {
    const row = this.row;
    const template = this.variant === "b" ? (this.rule.nudge.variantB?.message ?? this.rule.nudge.message) : this.rule.nudge.message;
    this.#message ??= renderTemplate(template, {
      customer: { name: row.name, id: row.externalId, segment: row.segment, tier: row.tier, lifecycleStage: row.lifecycleStage },
      owner: row.ownerSlackId,
      explanation: this.explanation,
      ruleName: this.rule.name,
      facts: this.facts,
      attributes: parseAttributes(row.attributes),
    });
    return this.#message;
  }

  /** JSON of the facts the nudge keeps (storedFactNames), those the sweep computed. */
  get factsJson(): string {
    const kept: Facts = {};
    for (const name of storedFactNames(this.rule)) if (Object.hasOwn(this.facts, name)) kept[name] = this.facts[name] ?? null;
    return JSON.stringify(kept);
  }

  /** Own enumerable fields for JSON and test output, the lazy ones included. */
  toJSON(): Omit<Match, never> {
    return {
      rule: this.rule,
      customerId: this.customerId,
      customerExternalId: this.customerExternalId,
      customerName: this.customerName,
      ownerSlackId: this.ownerSlackId,
      facts: this.facts,
      explanation: this.explanation,
      message: this.message,
      heldOut: this.heldOut,
      variant: this.variant,
      lastTouchAt: this.lastTouchAt,
    };
  }
}
