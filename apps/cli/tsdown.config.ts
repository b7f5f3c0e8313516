import { writeFileSync } from "node:fs";
import { defineConfig } from "tsdown";
import { SOURCE_STAMP, sourceHash } from "../../scripts/cli-entry.mjs";

/**
 * The built CLI: one ESM bundle, `dist/main.js`, with the workspace packages
 * (@keepwarm/*, devDependencies here) compiled in. Third-party packages stay imports,
 * so they must be this package's `dependencies` (same exact versions as the packages
 * that use them) for a production install (`pnpm deploy --prod`) to get them, except
 * the pure-JS ones in BUNDLED: kysely and zod are hundreds of small ES modules each,
 * and resolving and linking them was 40 % of `keepwarm touch`'s start-up. `onlyBundle`
 * fails the build when anything else would be inlined.
 * Each command is a dynamic import, so it lands in its own chunk and `--help` loads
 * neither Bolt nor kysely.
 */
const BUNDLED = ["kysely", "zod", "node-cron"];

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
  deps: { alwaysBundle: BUNDLED, onlyBundle: BUNDLED },
  // Chunks one level down, so packages/rules' `new URL("../rules/…", import.meta.url)`
  // finds the shipped rule files copied to dist/rules.
  outputOptions: { chunkFileNames: "chunks/[name]-[hash].js" },
  copy: [{ from: "../../packages/rules/rules/*.json", to: "dist/rules", flatten: true }],
  // `pnpm keepwarm` and the tests run this build only while it matches the sources (scripts/cli-entry.mjs).
  hooks: { "build:done": () => writeFileSync(SOURCE_STAMP, `${sourceHash()}\n`) },
});
