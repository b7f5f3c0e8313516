/**
 * The boundaries a reviewer checks, run by `pnpm lint` (and so by CI):
 * only packages/store talks to a database driver; apps depend on packages, never on
 * each other; packages never depend on apps; no cycles.
 */
module.exports = {
  forbidden: [
    {
      name: "driver-outside-store",
      comment: "Every query lives in packages/store: nothing else imports a database driver.",
      severity: "error",
      from: { path: "^(apps|packages|bench)/", pathNot: "^packages/store/" },
      to: { path: "node_modules/(better-sqlite3|pg|pg-pool|postgres|kysely)/" },
    },
    {
      name: "app-to-app",
      comment: "Apps depend only on packages (create-t3-turbo): shared code belongs in a package.",
      severity: "error",
      from: { path: "^apps/([^/]+)/" },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
    {
      name: "package-to-app",
      comment: "Dependencies point one way: apps -> packages.",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^apps/" },
    },
    {
      name: "no-circular",
      comment: "Runtime cycles only: an engine file may import its dispatcher's types.",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|\\.turbo)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
