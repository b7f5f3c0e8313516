import type { Insertable, Selectable } from "kysely";

/** The directory of reps: a Slack member and the email and name a CRM export may use for them. */
export interface OwnersTable {
  slack_id: string;
  email: string | null;
  name: string | null;
  updated_at: number;
}
export type Owner = Selectable<OwnersTable>;
export type NewOwner = Insertable<OwnersTable>;
