import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./packages/testkit/src/sequencer";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real CLI processes and servers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // One module graph per worker, not per file: importing Bolt, kysely, zod and the
    // packages afresh for each of ~100 files cost more CPU than the tests themselves.
    // Safe because no test mocks modules, stubs globals or changes process.env.
    isolate: false,
    // On PostgreSQL every test gets its own database; start and end with none left over.
    globalSetup: [
      fileURLToPath(new URL("./packages/store/src/testing/global-setup.ts", import.meta.url)),
      fileURLToPath(new URL("./packages/testkit/src/build-cli.ts", import.meta.url)),
    ],
    reporters: ["default", "./packages/testkit/src/summary-reporter.ts"],
    // One project, not one per package: vitest ran projects one after the other, so each
    // project's slowest file left the other core idle at its end.
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    sequence: { sequencer: SlowFirstSequencer },
  },
});
