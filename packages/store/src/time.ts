/** The store keeps every instant as epoch milliseconds in UTC. */
export const DAY_MS = 86_400_000;

/**
 * When a cooldown of this many days ends, for a nudge closed now: computed by the
 * caller in KEEPWARM_TZ (calendar days), so no time-zone arithmetic happens in SQL.
 */
export type CooldownUntil = (cooldownDays: number) => number;
