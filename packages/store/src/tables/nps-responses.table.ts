import type { Generated, Insertable, Selectable } from "kysely";

export interface NpsResponsesTable {
  id: Generated<number>;
  customer_id: number;
  score: number;
  responded_at: number;
  comment: string | null;
  /** The survey tool's id of the response (unique where present). */
  external_id: string | null;
}
export type NpsResponse = Selectable<NpsResponsesTable>;
export type NewNpsResponse = Insertable<NpsResponsesTable>;
