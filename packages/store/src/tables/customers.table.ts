import type { Generated, Insertable, Selectable, Updateable } from "kysely";

/** Times are epoch milliseconds, UTC, everywhere in the store. */
export interface CustomersTable {
  id: Generated<number>;
  external_id: string;
  name: string;
  segment: string | null;
  lifecycle_stage: string | null;
  owner_slack_id: string | null;
  /** The owner as an import gave it (an email or a name) while no Slack member is known for it. */
  owner_ref: string | null;
  tier: string | null;
  since_at: number | null;
  renewal_at: number | null;
  loyalty_member: number;
  churned_at: number | null;
  /** JSON object of free-form attributes (unknown CSV columns). */
  attributes: string;
  created_at: number;
  updated_at: number;
}
export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
