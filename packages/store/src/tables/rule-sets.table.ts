import type { Generated, Insertable, Selectable } from "kysely";

export interface RuleSetsTable {
  /** The version number users see. */
  id: Generated<number>;
  json: string;
  author: string;
  source: string;
  created_at: number;
  active: number;
  note: string | null;
}
export type RuleSetRow = Selectable<RuleSetsTable>;
export type NewRuleSetRow = Insertable<RuleSetsTable>;
