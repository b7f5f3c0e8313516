import type { Generated, Insertable, Selectable } from "kysely";

export interface NpsResponsesTable {
  id: Generated<number>;
  customer_id: number;
  score: number;
  responded_at: number;
  comment: string | null;
}
export type NpsResponse = Selectable<NpsResponsesTable>;
export type NewNpsResponse = Insertable<NpsResponsesTable>;
