import { type Db, writeTransaction } from "../engine/transaction";
import { LIVE_STATUSES, type NewNudge } from "../tables/nudges.table";

/** Every table the demo fills, children first: `demo --reset` empties them in this order. */
const DEMO_TABLES = [
  "webhook_attempts",
  "outbox",
  "webhook_events",
  "nudges",
  "sweep_runs",
  "touchpoints",
  "nps_responses",
  "purchases",
  "customers",
  "leases",
  "meta",
] as const;

/** When the demo data in this database was made (ISO), or undefined when it holds no demo. */
export async function demoMarker(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom("meta").select("value").where("key", "=", "demo").executeTakeFirst();
  return row?.value;
}

export async function setDemoMarker(db: Db, value: string): Promise<void> {
  await db
    .insertInto("meta")
    .values({ key: "demo", value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

/** Empty every table the demo fills (rule versions stay), in one transaction. */
export async function clearDemoTables(db: Db): Promise<void> {
  await writeTransaction(db, async (trx) => {
    for (const table of DEMO_TABLES) await trx.deleteFrom(table).execute();
  });
}

/** Live nudges per rule, most first. */
export async function liveNudgeCountsByRule(db: Db): Promise<Array<{ ruleId: string; n: number }>> {
  const rows = await db
    .selectFrom("nudges")
    .select((eb) => ["rule_id as ruleId", eb.fn.countAll<number>().as("n")])
    .where("status", "in", LIVE_STATUSES)
    .groupBy("rule_id")
    .orderBy("n", "desc")
    .orderBy("rule_id")
    .execute();
  return rows.map((row) => ({ ruleId: row.ruleId, n: Number(row.n) }));
}

/**
 * Make the demo's rules the active version, unless an admin applied their own (the
 * active version's author is neither "keepwarm" nor "demo"). Returns the active version.
 */
export async function installDemoRuleSet(trx: Db, ruleSet: { json: string; createdAt: number; note: string }): Promise<number> {
  const active = await trx.selectFrom("rule_sets").select("author").where("active", "=", 1).executeTakeFirst();
  if (active === undefined || active.author === "keepwarm" || active.author === "demo") {
    await trx.updateTable("rule_sets").set({ active: 0 }).where("active", "=", 1).execute();
    await trx
      .insertInto("rule_sets")
      .values({ json: ruleSet.json, author: "demo", source: "keepwarm demo", created_at: ruleSet.createdAt, active: 1, note: ruleSet.note })
      .execute();
  }
  const version = await trx.selectFrom("rule_sets").select("id").where("active", "=", 1).executeTakeFirstOrThrow();
  return version.id;
}

/** What the demo's history needs of each customer, by id. */
export async function demoCustomers(
  db: Db,
): Promise<Array<{ id: number; externalId: string; segment: string | null; owner: string | null; sinceAt: number | null; churnedAt: number | null }>> {
  return db
    .selectFrom("customers")
    .select(["id", "external_id as externalId", "segment", "owner_slack_id as owner", "since_at as sinceAt", "churned_at as churnedAt"])
    .orderBy("id")
    .execute();
}

/** A past nudge of the demo's history (already closed); returns its id. */
export async function insertDemoNudge(trx: Db, nudge: NewNudge): Promise<number> {
  const row = await trx.insertInto("nudges").values(nudge).returning("id").executeTakeFirstOrThrow();
  return row.id;
}
