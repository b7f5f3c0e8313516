// The README's test command: the whole suite on SQLite, then again on PostgreSQL.
// Without a PostgreSQL server the second half is skipped with one line, except in CI
// (CI=true), where a missing server is a failure. Ends with one "tests: N passed, N
// failed" line over both runs. Extra arguments go to vitest (a file filter, say).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresAnswers } from "../packages/store/src/engine/scratch";

const pgUrl = process.env.KEEPWARM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const only = process.env.KEEPWARM_TEST_ENGINE;
// `pnpm test -- filter` passes the "--" on; vitest would read the filters after it as nothing.
const filters = process.argv.slice(2).filter((arg) => arg !== "--");
const dir = mkdtempSync(join(tmpdir(), "keepwarm-counts-"));
const counts = join(dir, "counts.jsonl");

function run(engine: "sqlite" | "postgres"): boolean {
  const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...filters], {
    stdio: "inherit",
    env: { ...process.env, KEEPWARM_TEST_ENGINE: engine, KEEPWARM_TEST_COUNTS: counts },
  });
  return result.status === 0;
}

let ok = true;
if (only !== "postgres") ok = run("sqlite") && ok;
if (only !== "sqlite") {
  if (await postgresAnswers(pgUrl)) ok = run("postgres") && ok;
  else if (process.env.CI === "true") {
    console.error(`PostgreSQL does not answer at ${pgUrl}: CI must run the PostgreSQL half (.ci/run starts a server)`);
    ok = false;
  } else {
    console.log(`\nPostgreSQL half skipped: no server answers at ${pgUrl} (set KEEPWARM_TEST_PG_URL to run it)`);
  }
}
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  for (const line of readFileSync(counts, "utf8").split("\n").filter(Boolean)) {
    const c = JSON.parse(line);
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
  }
} catch {}
rmSync(dir, { recursive: true, force: true });
if (!ok && failed === 0) failed = 1;
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(ok ? 0 : 1);
