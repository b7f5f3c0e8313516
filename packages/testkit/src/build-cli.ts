// vitest globalSetup: build the CLI once before the tests when the sources changed,
// so tests that spawn keepwarm start the built JavaScript (fast) rather than tsx.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { builtCliIsFresh } from "../../../scripts/cli-entry.mjs";

export default function setup(): void {
  if (builtCliIsFresh()) return;
  const cwd = fileURLToPath(new URL("../../../apps/cli/", import.meta.url));
  const result = spawnSync(process.execPath, ["node_modules/tsdown/dist/run.mjs", "--log-level", "warn"], { cwd, stdio: "inherit" });
  if (result.status !== 0) throw new Error("building the CLI (apps/cli: tsdown) failed; the tests need it");
}
