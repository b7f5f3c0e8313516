import { sql } from "kysely";
import type { Db } from "../engine/transaction";
import type { NewOwner, Owner } from "../tables/owners.table";

/** Every rep of the directory (a few hundred at most), for an import to resolve emails and names. */
export async function ownerDirectory(db: Db): Promise<Owner[]> {
  return db.selectFrom("owners").selectAll().orderBy("slack_id").execute();
}

/** Add or refresh reps of the directory, by Slack member id. */
export async function upsertOwners(trx: Db, owners: readonly NewOwner[]): Promise<void> {
  for (const owner of owners) {
    await trx
      .insertInto("owners")
      .values(owner)
      .onConflict((oc) => oc.column("slack_id").doUpdateSet({ email: owner.email ?? null, name: owner.name ?? null, updated_at: owner.updated_at }))
      .execute();
  }
}

/** The owners customers were imported with that no Slack member is known for yet (emails and names, as given). */
export async function unresolvedOwnerRefs(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom("customers")
    .select("owner_ref")
    .distinct()
    .where("owner_ref", "is not", null)
    .where("owner_slack_id", "is", null)
    .orderBy("owner_ref")
    .execute();
  return rows.map((row) => row.owner_ref as string);
}

/** Give the customers imported with owner `ref` (compared case-insensitively) their Slack owner; returns how many changed. */
export async function resolveOwnerRef(trx: Db, ref: string, slackId: string, now: number): Promise<number> {
  const result = await trx
    .updateTable("customers")
    .set({ owner_slack_id: slackId, owner_ref: null, updated_at: now })
    .where(sql<boolean>`lower(owner_ref) = ${ref.toLowerCase()}`)
    .where("owner_slack_id", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Display names of these Slack members, where the directory has one. */
export async function ownerNames(db: Db, slackIds: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const ids = [...new Set(slackIds)];
  for (let start = 0; start < ids.length; start += 500) {
    const rows = await db
      .selectFrom("owners")
      .select(["slack_id", "name"])
      .where("slack_id", "in", ids.slice(start, start + 500))
      .where("name", "is not", null)
      .execute();
    for (const row of rows) names.set(row.slack_id, row.name as string);
  }
  return names;
}

/** Slack members customers are owned by that the directory has no entry for (their names are unknown). */
export async function ownersMissingFromDirectory(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom("customers")
    .select("owner_slack_id")
    .distinct()
    .where("owner_slack_id", "is not", null)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom("owners").select("slack_id").whereRef("owners.slack_id", "=", "customers.owner_slack_id"))))
    .orderBy("owner_slack_id")
    .execute();
  return rows.map((row) => row.owner_slack_id as string);
}
