import { defineFact, type FactDefinition } from "../definition";
import { days } from "./words";

// Facts of the customer record itself: no aggregate, so they cost the scan nothing.

export const loyaltyMember = defineFact({
  name: "loyaltyMember",
  type: "boolean",
  nullable: false,
  description: "Whether the customer is in the loyalty program.",
  example: "false",
  compute: (_, { customer }) => customer.loyaltyMember === 1,
  explain: { qualifier: true, describe: (f) => (f.loyaltyMember === true ? "Loyalty member" : "Not in the loyalty program") },
});

export const daysUntilRenewal = defineFact({
  name: "daysUntilRenewal",
  type: "number",
  nullable: true,
  unit: "days",
  description: "Calendar days until the renewal date (negative once past); null without one.",
  example: "45",
  compute: (_, { customer, daysSince }) => (customer.renewalAt === null ? null : -daysSince(customer.renewalAt)),
  explain: {
    describe: (f) => {
      const v = f.daysUntilRenewal;
      if (v === null) return "No renewal date";
      return Number(v) >= 0 ? `Renewal in ${days(Number(v))}` : `Renewal ${days(-Number(v))} overdue`;
    },
  },
});

export const daysAsCustomer = defineFact({
  name: "daysAsCustomer",
  type: "number",
  nullable: false,
  unit: "days",
  description: "Calendar days since `since` (or the import date): 0 on the first day.",
  example: "400",
  compute: (_, { daysSince, start }) => daysSince(start),
  explain: { describe: (f) => `Customer for ${days(Number(f.daysAsCustomer))}` },
});

const text = (name: "segment" | "lifecycleStage" | "tier", label: string, description: string, example: string): FactDefinition =>
  defineFact({
    name,
    type: "string",
    nullable: true,
    description,
    example,
    compute: (_, { customer }) => customer[name],
    explain: { qualifier: true, describe: (f) => `${label} ${f[name] ?? "(none)"}` },
  });

export const segment = text("segment", "Segment", "Segment / persona, as imported (lower case).", '"enterprise"');
export const lifecycleStage = text("lifecycleStage", "Stage", "Lifecycle stage, as imported (e.g. onboarding, adoption, renewal).", '"onboarding"');
export const tier = text("tier", "Tier", "Tier, as imported.", '"gold"');

export const CUSTOMER_FACTS: readonly FactDefinition[] = [loyaltyMember, daysUntilRenewal, daysAsCustomer, segment, lifecycleStage, tier];
