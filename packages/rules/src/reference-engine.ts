import { Engine } from "json-rules-engine";
import type { Facts } from "./facts";
import type { Rule } from "./rule-file";

/**
 * json-rules-engine itself: the definition of what a rule means. The sweep uses the
 * compiled fast path; this one backs `sweep --engine reference` and the property test.
 * A new Engine per call: an Engine's status is engine-wide, so sharing one across
 * concurrent run() calls corrupts results.
 */
export async function matchingRuleIds(rules: readonly Rule[], facts: Facts): Promise<string[]> {
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const rule of rules) {
    if (!rule.enabled) continue;
    // biome-ignore lint/suspicious/noExplicitAny: the engine's condition types are looser than ours
    engine.addRule({ conditions: rule.conditions as any, event: { type: rule.id } });
  }
  const { events } = await engine.run({ ...facts });
  return events.map((event) => event.type);
}

/** One engine, reused sequentially (never concurrently) over many customers. */
export function createReferenceEvaluator(rules: readonly Rule[]): (facts: Facts) => Promise<string[]> {
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const rule of rules) {
    if (!rule.enabled) continue;
    // biome-ignore lint/suspicious/noExplicitAny: the engine's condition types are looser than ours
    engine.addRule({ conditions: rule.conditions as any, event: { type: rule.id } });
  }
  let running: Promise<unknown> = Promise.resolve();
  return (facts) => {
    const result = running.then(() => engine.run({ ...facts })).then(({ events }) => events.map((event) => event.type));
    running = result.catch(() => undefined);
    return result;
  };
}
