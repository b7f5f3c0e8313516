/** The store keeps every instant as epoch milliseconds in UTC. */
export const DAY_MS = 86_400_000;
