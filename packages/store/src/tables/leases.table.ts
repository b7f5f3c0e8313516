import type { Selectable } from "kysely";

export interface LeasesTable {
  name: string;
  holder: string;
  host: string;
  pid: number;
  expires_at: number;
}
export type Lease = Selectable<LeasesTable>;
