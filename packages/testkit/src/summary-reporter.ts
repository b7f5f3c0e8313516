import { appendFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

/** Ends the run with one plain line, "ENGINE: N passed, N failed[, N skipped]". */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failedHere++;
        else skipped++;
      }
      // A file that failed outside its tests (an import, a beforeAll) leaves them all skipped: it is one failure.
      failed += module.state() === "failed" && failedHere === 0 ? 1 : failedHere;
    }
    const engine = process.env.KEEPWARM_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
    process.stdout.write(`\n${engine}: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
    // scripts/test.mjs adds up both engines' runs into the one closing line CI reads.
    const file = process.env.KEEPWARM_TEST_COUNTS;
    if (file !== undefined) appendFileSync(file, `${JSON.stringify({ engine, passed, failed, skipped })}\n`);
  }
}
