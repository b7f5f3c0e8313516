import type { Engine } from "json-rules-engine";
import type { Facts } from "./facts";
import type { Rule } from "./rule-file";

/**
 * json-rules-engine itself: the definition of what a rule means. The sweep uses the
 * compiled fast path; this one backs `sweep --engine reference` and the property test.
 * A new Engine per call: an Engine's status is engine-wide, so sharing one across
 * concurrent run() calls corrupts results.
 *
 * Loaded on first use: every command imports this package, and only `sweep --engine
 * reference` and the tests run the engine; its module graph costs the CLI's start-up.
 */
let engineModule: Promise<typeof import("json-rules-engine")> | undefined;

async function engineFor(rules: readonly Rule[]): Promise<Engine> {
  engineModule ??= import("json-rules-engine");
  const { Engine } = await engineModule;
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const rule of rules) {
    if (!rule.enabled) continue;
    // biome-ignore lint/suspicious/noExplicitAny: the engine's condition types are looser than ours
    engine.addRule({ conditions: rule.conditions as any, event: { type: rule.id } });
  }
  return engine;
}

export async function matchingRuleIds(rules: readonly Rule[], facts: Facts): Promise<string[]> {
  const { events } = await (await engineFor(rules)).run({ ...facts });
  return events.map((event) => event.type);
}

/** One engine, reused sequentially (never concurrently) over many customers. */
export function createReferenceEvaluator(rules: readonly Rule[]): (facts: Facts) => Promise<string[]> {
  const engine = engineFor(rules);
  // A rejected load would otherwise be unhandled until the first call awaits it.
  engine.catch(() => undefined);
  let running: Promise<unknown> = Promise.resolve();
  return (facts) => {
    const result = running.then(async () => (await engine).run({ ...facts })).then(({ events }) => events.map((event) => event.type));
    running = result.catch(() => undefined);
    return result;
  };
}
