import { writeFileSync } from "node:fs";
import { defineConfig } from "tsdown";
import { SOURCE_STAMP, sourceHash } from "../../scripts/cli-entry.mjs";

/**
 * The built CLI: one ESM bundle, `dist/main.js`, with the workspace packages
 * (@keepwarm/*, devDependencies here) compiled in and every third-party package left
 * as an import. Those must be this package's `dependencies` (same exact versions as
 * the packages that use them), so a production install (`pnpm deploy --prod`) gets
 * them: `onlyBundle: []` fails the build when one is missing instead of inlining it.
 * Each command is a dynamic import, so it lands in its own chunk and `--help` loads
 * neither Bolt nor kysely.
 */
export default defineConfig({
  entry: ["src/main.ts"],
  format: "esm",
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  dts: false,
  hash: true,
  fixedExtension: false,
  deps: { onlyBundle: [] },
  // Chunks one level down, so packages/rules' `new URL("../rules/…", import.meta.url)`
  // finds the shipped rule files copied to dist/rules.
  outputOptions: { chunkFileNames: "chunks/[name]-[hash].js" },
  copy: [{ from: "../../packages/rules/rules/*.json", to: "dist/rules", flatten: true }],
  // `pnpm keepwarm` and the tests run this build only while it matches the sources (scripts/cli-entry.mjs).
  hooks: { "build:done": () => writeFileSync(SOURCE_STAMP, `${sourceHash()}\n`) },
});
