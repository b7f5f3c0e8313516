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
