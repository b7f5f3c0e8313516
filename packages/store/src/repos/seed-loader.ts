import { driverOf, type Store, StoreError } from "../open-store";

/** A customer as the benchmark generator writes it: every column, its own id. */
export type SeedCustomer = [
  id: number,
  externalId: string,
  name: string,
  segment: string | null,
  lifecycleStage: string | null,
  ownerSlackId: string | null,
  tier: string | null,
  sinceAt: number | null,
  renewalAt: number | null,
  loyaltyMember: 0 | 1,
  churnedAt: number | null,
  attributes: string,
  createdAt: number,
  updatedAt: number,
];

export interface SeedWriter {
  customer(row: SeedCustomer): void;
  touch(customerId: number, kind: string, at: number, loggedBy: string): void;
  /** Returns whether it was stored (one response per customer and instant). */
  nps(customerId: number, score: number, at: number): boolean;
  purchase(customerId: number, at: number, amountCents: number, dedupeKey: string): void;
}

export interface SeedLoader {
  /** Runs `fill` in one transaction; what it writes commits together. */
  batch(fill: (write: SeedWriter) => void): void;
  /** Folds the write-ahead log into the file, so the copy a benchmark takes is whole. */
  finish(): void;
}

/**
 * Synthetic data at benchmark scale (bench/generate.ts, a million customers and tens
 * of millions of events): prepared statements in large transactions with fsync off,
 * the fastest way into SQLite. SQLite only: a PostgreSQL benchmark copies the
 * generated file with copyStore, as a user moving an install would.
 */
export function openSeedLoader(store: Store): SeedLoader {
  const driver = driverOf(store);
  if (driver.engine !== "sqlite") throw new StoreError("the seed loader writes SQLite files; copy them to PostgreSQL with db copy");
  const { sqlite } = driver;
  sqlite.pragma("synchronous = OFF");
  sqlite.pragma("cache_size = -262144");
  const insertCustomer = sqlite.prepare(
    `INSERT INTO customers (id, external_id, name, segment, lifecycle_stage, owner_slack_id, tier, since_at, renewal_at, loyalty_member, churned_at, attributes, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertTouch = sqlite.prepare("INSERT INTO touchpoints (customer_id, kind, occurred_at, logged_at, logged_by, source) VALUES (?, ?, ?, ?, ?, 'import')");
  const insertNps = sqlite.prepare("INSERT INTO nps_responses (customer_id, score, responded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const insertPurchase = sqlite.prepare("INSERT INTO purchases (customer_id, occurred_at, amount_cents, dedupe_key) VALUES (?, ?, ?, ?)");
  const writer: SeedWriter = {
    customer: (row) => void insertCustomer.run(...row),
    touch: (customerId, kind, at, loggedBy) => void insertTouch.run(customerId, kind, at, at, loggedBy),
    nps: (customerId, score, at) => insertNps.run(customerId, score, at).changes > 0,
    purchase: (customerId, at, amountCents, dedupeKey) => void insertPurchase.run(customerId, at, amountCents, dedupeKey),
  };
  return {
    batch: (fill) => sqlite.transaction(() => fill(writer))(),
    finish: () => void sqlite.pragma("wal_checkpoint(TRUNCATE)"),
  };
}
