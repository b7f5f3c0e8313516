import { type Db, writeTransaction } from "../engine/transaction";
import { LIVE_STATUSES } from "../tables/nudges.table";

/** The meta key the demo data generator sets to the instant it ran (ISO). */
export const DEMO_META_KEY = "demo";

/** How many customers the install has, and when demo data was created in it (undefined: never). */
export async function demoInstallState(db: Db): Promise<{ customers: number; demoCreatedAt: string | undefined }> {
  const customers = await db
    .selectFrom("customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const mark = await db.selectFrom("meta").select("value").where("key", "=", DEMO_META_KEY).executeTakeFirst();
  return { customers: Number(customers.n), demoCreatedAt: mark?.value };
}

/** Everything `demo --reset` deletes, children before parents; rule versions stay (history). */
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

/** Empty the install for fresh demo data, in one transaction. */
export async function clearDemoInstall(db: Db): Promise<void> {
  await writeTransaction(db, async (trx) => {
    for (const table of DEMO_TABLES) await trx.deleteFrom(table).execute();
  });
}

/** Live (open or snoozed) nudges per rule, most first. */
export async function liveNudgesByRule(db: Db): Promise<Array<{ ruleId: string; n: number }>> {
  const rows = await db
    .selectFrom("nudges")
    .select((eb) => ["rule_id as ruleId", eb.fn.countAll<number>().as("n")])
    .where("status", "in", LIVE_STATUSES)
    .groupBy("rule_id")
    .execute();
  return rows.map((row) => ({ ruleId: row.ruleId, n: Number(row.n) })).sort((a, b) => b.n - a.n || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}
