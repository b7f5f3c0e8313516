// Only packages/store writes SQL or reaches a driver (issue 10), benchmarks included. dependency-cruiser
// checks imports; this checks what imports cannot show: raw statements, kysely query
// builders and the driver handle used through `store.*`. Run by `pnpm lint`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const FORBIDDEN: Array<[RegExp, string]> = [
  [/\.sqlite\b/, "the raw SQLite handle"],
  [/\.prepare\(/, "a prepared statement"],
  [/\bsql(\.raw)?`|\bsql\.raw\(/, "kysely's sql template"],
  [/\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(/, "a kysely query"],
  [/\.(transaction|connection)\(\)/, "a database transaction"],
  [
    /["'`][^"'`]*\b(SELECT\s+(\*|DISTINCT|count|[a-z_]+\.[a-z_]+|[a-z_]+\s*,)|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(UNIQUE\s+)?(TABLE|INDEX))\b/,
    "an SQL statement",
  ],
];

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield path;
  }
}

// bench/ too: benchmarks measure the store through its functions, like any caller.
const roots: string[] = [join(ROOT, "bench")];
for (const group of ["apps", "packages"]) {
  for (const name of readdirSync(join(ROOT, group))) {
    if (group === "packages" && name === "store") continue;
    const src = join(ROOT, group, name, "src");
    if (statSync(src, { throwIfNoEntry: false })?.isDirectory()) roots.push(src);
  }
}

const findings: string[] = [];
for (const root of roots) {
  for (const file of sourceFiles(root)) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, index) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(line)) findings.push(`${relative(ROOT, file)}:${index + 1}: ${what} outside packages/store: ${line.trim().slice(0, 100)}`);
        }
      });
  }
}
if (findings.length > 0) {
  console.error(findings.join("\n"));
  console.error(`\ncheck-sql: ${findings.length} line(s) hold SQL or a driver outside packages/store; move them into a store repository function`);
  process.exit(1);
}
console.log(`check-sql: no SQL outside packages/store (${roots.length} source folders)`);
