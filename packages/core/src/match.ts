import type { Facts, Rule } from "@keepwarm/rules";

/** A rule that matched a customer in a sweep or preview: what the planner turns into a nudge. */
export interface Match {
  rule: Rule;
  customerId: number;
  customerExternalId: string;
  customerName: string;
  ownerSlackId: string | null;
  facts: Facts;
  explanation: string;
  message: string;
  heldOut: boolean;
  /** The message version ("a" or "b") when the rule runs an A/B test; null otherwise. */
  variant: "a" | "b" | null;
  /** The customer's last touch when planned: only a newer touch resolves the nudge. */
  lastTouchAt: number | null;
}
