import type { Facts, Rule } from "@keepwarm/rules";

/** A rule that matched a customer, with what the nudge needs. */
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
  /** The customer's last touch when planned: only a newer touch resolves the nudge. */
  lastTouchAt: number | null;
}
