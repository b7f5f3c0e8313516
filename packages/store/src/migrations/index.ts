import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./2026-11-23T00-00_initial";

/** In-code provider: migrations ship inside the package, no directory scanning at run time. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { "2026-11-23T00-00_initial": initial };
  },
};
