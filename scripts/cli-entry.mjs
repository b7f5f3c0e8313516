// Which keepwarm to run from a checkout: the built CLI (apps/cli/dist/main.js) when it
// was built from the sources as they are now, else the TypeScript sources (through
// tsx). A stale build is never run: an edit takes effect at once, and `pnpm build`
// makes start-up fast again. The build writes the hash of its inputs next to
// main.js (SOURCE_STAMP); file times are only a shortcut past the hashing.
// Plain JavaScript: it runs before any tsx.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const CLI_DIST = join(ROOT, "apps/cli/dist/main.js");
export const CLI_SOURCE = join(ROOT, "apps/cli/src/main.ts");
export const SOURCE_STAMP = join(ROOT, "apps/cli/dist/.source-hash");

function files(path, out) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return out;
  }
  if (!stat.isDirectory()) out.push({ path, mtimeMs: stat.mtimeMs });
  else for (const name of readdirSync(path).sort()) if (name !== "node_modules" && name !== "dist") files(join(path, name), out);
  return out;
}

/** Everything the build reads: the sources of the CLI and of every package, the shipped rule files, the build config. */
function sourceFiles() {
  const packages = join(ROOT, "packages");
  const inputs = [join(ROOT, "apps/cli/src"), join(ROOT, "apps/cli/package.json"), join(ROOT, "apps/cli/tsdown.config.ts")];
  for (const name of readdirSync(packages).sort())
    inputs.push(join(packages, name, "src"), join(packages, name, "rules"), join(packages, name, "package.json"));
  return inputs.flatMap((input) => files(input, []));
}

/** The hash the build stamps: every input's path and content. */
export function sourceHash() {
  const hash = createHash("sha256");
  for (const { path } of sourceFiles()) hash.update(relative(ROOT, path)).update("\0").update(readFileSync(path)).update("\0");
  return hash.digest("hex");
}

/** True when apps/cli/dist/main.js was built from the sources as they are now. */
export function builtCliIsFresh() {
  let stamp;
  try {
    stamp = { text: readFileSync(SOURCE_STAMP, "utf8").trim(), mtimeMs: statSync(SOURCE_STAMP).mtimeMs };
    statSync(CLI_DIST);
  } catch {
    return false;
  }
  if (sourceFiles().every((file) => file.mtimeMs <= stamp.mtimeMs)) return true;
  if (sourceHash() !== stamp.text) return false;
  // Same content, newer times (a checkout): renew the stamp so the next start skips the hashing.
  const now = new Date();
  utimesSync(SOURCE_STAMP, now, now);
  return true;
}
