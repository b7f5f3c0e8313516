import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";

/**
 * CRM exports in (issue 13):
 * - `owners`: the directory of reps (Slack member id, email, display name) that
 *   `keepwarm owners sync` fills from Slack, so an owner column may hold an email or a
 *   name and the stats, the report and the console can print names.
 * - `customers.owner_ref`: the owner as the file gave it (an email or a name) while no
 *   Slack member is known for it; `owners sync` resolves it later.
 * - `external_id` on touchpoints and nps_responses: the CRM's own id for the row, so a
 *   re-import is idempotent per row; unique where present (partial index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const instant = isPostgres(db) ? "BIGINT" : "INTEGER";
  await sql
    .raw(`CREATE TABLE owners (
      slack_id TEXT PRIMARY KEY,
      email TEXT,
      name TEXT,
      updated_at ${instant} NOT NULL
    )`)
    .execute(db);
  await sql.raw("CREATE INDEX owners_email ON owners (lower(email))").execute(db);
  await sql.raw("ALTER TABLE customers ADD COLUMN owner_ref TEXT").execute(db);
  await sql.raw("ALTER TABLE touchpoints ADD COLUMN external_id TEXT").execute(db);
  await sql.raw("CREATE UNIQUE INDEX touchpoints_external_id ON touchpoints (external_id) WHERE external_id IS NOT NULL").execute(db);
  await sql.raw("ALTER TABLE nps_responses ADD COLUMN external_id TEXT").execute(db);
  await sql.raw("CREATE UNIQUE INDEX nps_responses_external_id ON nps_responses (external_id) WHERE external_id IS NOT NULL").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP INDEX IF EXISTS nps_responses_external_id").execute(db);
  await sql.raw("ALTER TABLE nps_responses DROP COLUMN external_id").execute(db);
  await sql.raw("DROP INDEX IF EXISTS touchpoints_external_id").execute(db);
  await sql.raw("ALTER TABLE touchpoints DROP COLUMN external_id").execute(db);
  await sql.raw("ALTER TABLE customers DROP COLUMN owner_ref").execute(db);
  await sql.raw("DROP TABLE IF EXISTS owners").execute(db);
}
