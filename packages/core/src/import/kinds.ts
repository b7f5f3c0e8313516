export const IMPORT_KINDS = ["customers", "touches", "nps", "purchases"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const COLUMNS: Record<ImportKind, { required: readonly string[]; optional: readonly string[] }> = {
  customers: {
    required: ["id", "name"],
    optional: ["segment", "lifecycle_stage", "owner", "tier", "since", "renewal_date", "loyalty_member", "churned_at"],
  },
  touches: { required: ["customer_id", "occurred_at"], optional: ["kind", "note", "logged_by", "external_id"] },
  nps: { required: ["customer_id", "responded_at", "score"], optional: ["comment", "external_id"] },
  purchases: { required: ["customer_id", "occurred_at"], optional: ["amount", "order_id"] },
};

/** Other names a header may use for a column (after normaliseName): the older `owner_slack_id`, and the owner's email. */
export const COLUMN_ALIASES: Record<ImportKind, Readonly<Record<string, string>>> = {
  customers: { owner_slack_id: "owner", owner_email: "owner" },
  touches: {},
  nps: {},
  purchases: {},
};

/** The columns of each kind that hold dates (read with --date-format). */
export const DATE_COLUMNS: Record<ImportKind, readonly string[]> = {
  customers: ["since", "renewal_date", "churned_at"],
  touches: ["occurred_at"],
  nps: ["responded_at"],
  purchases: ["occurred_at"],
};
