import type { Generated, Insertable, Selectable } from "kysely";

export const TOUCH_KINDS = ["call", "email", "meeting", "visit", "chat", "other"] as const;
export type TouchKind = (typeof TOUCH_KINDS)[number];
export type TouchSource = "import" | "cli" | "slack" | "modal" | "api";

export interface TouchpointsTable {
  id: Generated<number>;
  customer_id: number;
  kind: string;
  occurred_at: number;
  logged_at: number;
  logged_by: string | null;
  note: string | null;
  source: string;
  /** The CRM's id of an imported touch (unique where present): a re-import skips it. */
  external_id: string | null;
}
export type Touchpoint = Selectable<TouchpointsTable>;
export type NewTouchpoint = Insertable<TouchpointsTable>;
