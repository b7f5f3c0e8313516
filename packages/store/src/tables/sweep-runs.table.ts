import type { Generated, Insertable, Selectable } from "kysely";

export interface SweepRunsTable {
  id: Generated<number>;
  started_at: number;
  finished_at: number | null;
  /** running | ok | error | abandoned */
  status: string;
  dry_run: number;
  /** The instant the facts were computed for (differs from started_at in tests and backtests). */
  as_of: number;
  rule_set_version: number | null;
  evaluated: number;
  matched: number;
  created: number;
  reopened: number;
  expired: number;
  held_out: number;
  error: string | null;
  host: string;
  pid: number;
}
export type SweepRun = Selectable<SweepRunsTable>;
export type NewSweepRun = Insertable<SweepRunsTable>;
