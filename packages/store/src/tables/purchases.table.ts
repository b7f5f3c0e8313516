import type { Generated, Insertable, Selectable } from "kysely";

export interface PurchasesTable {
  id: Generated<number>;
  customer_id: number;
  occurred_at: number;
  /** Amount in cents, so sums stay exact. */
  amount_cents: number;
  dedupe_key: string;
}
export type Purchase = Selectable<PurchasesTable>;
export type NewPurchase = Insertable<PurchasesTable>;
