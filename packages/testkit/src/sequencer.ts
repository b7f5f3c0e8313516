import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest (8 s or more on an idle 2-core machine, docs/performance.md),
 * longest first. Two workers share ~100 files: a long file started late leaves the other
 * core idle at the end. Vitest orders by the durations it cached from the last run, and a
 * fresh clone has none, so these go first; the rest follow vitest's own order.
 */
const SLOW_FIRST = [
  "apps/cli/test/replicas-processes.test.ts",
  "apps/cli/test/sweep-cli.test.ts",
  "packages/bot/test/startup.test.ts",
  "packages/bot/test/cli.test.ts",
  "apps/cli/test/webhooks.test.ts",
  "packages/bot/test/delivery.test.ts",
  "packages/bot/test/preferences.test.ts",
  "packages/bot/test/interactions.test.ts",
  "packages/core/test/backtest-one-pass.test.ts",
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = SLOW_FIRST.findIndex((suffix) => spec.moduleId.endsWith(suffix));
      return at === -1 ? SLOW_FIRST.length : at;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, order) => ({ spec, order, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ spec }) => spec);
  }
}
