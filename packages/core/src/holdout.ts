/** FNV-1a, 32 bit: a stable hash so a customer's holdout group never changes between sweeps. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Deterministic: the same (rule, customer) always lands in the same group. */
export function isHeldOut(ruleId: string, customerExternalId: string, holdoutPercent: number): boolean {
  if (holdoutPercent <= 0) return false;
  return fnv1a(`${ruleId}\u0000${customerExternalId}`) % 10_000 < Math.round(holdoutPercent * 100);
}

export type Variant = "a" | "b";

/**
 * The message version a customer gets from a rule with an A/B test: half "a", half "b",
 * stable for the (rule, customer), and drawn apart from the holdout group (another
 * hash input), so being held out says nothing about the version.
 */
export function variantOf(ruleId: string, customerExternalId: string): Variant {
  // Not `% 2`: FNV-1a's lowest bit is only the parity of the input's low bits, the same for many rule ids.
  return fnv1a(`${ruleId}\u0000${customerExternalId}\u0000variant`) % 10_000 < 5_000 ? "a" : "b";
}
