import type { Db } from "../engine/transaction";
import type { NewNudge } from "../tables/nudges.table";
import { DEMO_META_KEY } from "./demo-install";

/** Mark the install as holding demo data made at `value` (ISO): `demo` knows it may reset it. */
export async function setDemoMarker(db: Db, value: string): Promise<void> {
  await db
    .insertInto("meta")
    .values({ key: DEMO_META_KEY, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
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
