#!/usr/bin/env node
// `pnpm keepwarm …` in a checkout: the built CLI when it is fresh, else the sources
// through tsx, in this same process either way (so a signal reaches keepwarm itself,
// and stopping it leaves no child behind). See scripts/cli-entry.mjs.
import { pathToFileURL } from "node:url";
import { builtCliIsFresh, CLI_DIST, CLI_SOURCE } from "./cli-entry.mjs";

// KEEPWARM_FROM_SOURCE=1 runs the sources even when the build is fresh (debugging the CLI itself).
if (process.env.KEEPWARM_FROM_SOURCE !== "1" && builtCliIsFresh()) {
  await import(pathToFileURL(CLI_DIST).href);
} else {
  if (process.stderr.isTTY) process.stderr.write("keepwarm: running from the sources (no fresh build; `pnpm build` makes start-up faster)\n");
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(CLI_SOURCE).href);
}
