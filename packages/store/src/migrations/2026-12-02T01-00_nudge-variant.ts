import { type Kysely, sql } from "kysely";

/**
 * Which of a rule's two message versions a nudge carried ("a" = the rule's own message,
 * "b" = its `variantB`); NULL when the rule runs no A/B test. `stats` compares the
 * versions' touch rates from it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges ADD COLUMN variant TEXT CHECK (variant IN ('a', 'b'))").execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("ALTER TABLE nudges DROP COLUMN variant").execute(db);
}
