export const IMPORT_KINDS = ["customers", "touches", "nps", "purchases"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const COLUMNS: Record<ImportKind, { required: readonly string[]; optional: readonly string[] }> = {
  customers: {
    required: ["id", "name"],
    optional: ["segment", "lifecycle_stage", "owner_slack_id", "tier", "since", "renewal_date", "loyalty_member", "churned_at"],
  },
  touches: { required: ["customer_id", "occurred_at"], optional: ["kind", "note", "logged_by"] },
  nps: { required: ["customer_id", "responded_at", "score"], optional: ["comment"] },
  purchases: { required: ["customer_id", "occurred_at"], optional: ["amount"] },
};
