import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAY_MS, insertCustomers, openStore, type Store } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";

/** A fixed instant, so "days ago" never depends on when the suite runs. */
export const NOW = Date.parse("2026-06-15T12:00:00Z");
export const daysBefore = (days: number, from = NOW): number => from - days * DAY_MS;
export const iso = (ms: number): string => new Date(ms).toISOString();

export interface IngestFixture {
  store: Store;
  /** The KEEPWARM_DB value of the store (a second connection opens it again). */
  location: string;
  /** Write a CSV file (lines joined by \n) into the fixture's folder; returns its path. */
  csv(name: string, lines: readonly string[], ending?: string): string;
  close(): Promise<void>;
}

/** A fresh, migrated database of the engine under test, and a folder for CSV files. */
export async function freshIngestStore(): Promise<IngestFixture> {
  const tmp = tempDir("keepwarm-ingest-");
  const location = await migratedDatabase(tmp);
  const store = await openStore(location);
  return {
    store,
    location,
    csv(name, lines, ending = "") {
      const path = join(tmp.dir, name);
      writeFileSync(path, `${lines.join("\n")}${ending}`);
      return path;
    },
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

/** Rows in a table. */
export async function countRows(store: Store, table: "customers" | "touchpoints" | "nps_responses" | "purchases" | "nudges" | "outbox"): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface CustomerSpec {
  id: string;
  name?: string;
  segment?: string | null;
  since?: number | null;
  owner?: string | null;
}

/** Inserts a customer that existed long before NOW; returns its row id. */
export async function addCustomer(store: Store, spec: CustomerSpec): Promise<number> {
  const created = daysBefore(1000);
  const [id] = await insertCustomers(store.db, [
    {
      external_id: spec.id,
      name: spec.name ?? `Customer ${spec.id}`,
      segment: spec.segment ?? null,
      owner_slack_id: spec.owner === undefined ? "U0OWNER1" : spec.owner,
      since_at: spec.since ?? created,
      loyalty_member: 0,
      attributes: "{}",
      created_at: created,
      updated_at: created,
    },
  ]);
  return id as number;
}

/** "external id: status" of every nudge, oldest first. */
export async function nudgeStatuses(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom("nudges as n")
    .innerJoin("customers as c", "c.id", "n.customer_id")
    .select(["c.external_id as customer", "n.status"])
    .orderBy("n.id")
    .execute();
  return rows.map((row) => `${row.customer} ${row.status}`);
}
