import { type Kysely, sql } from "kysely";
import { isPostgres } from "../engine/dialect";
import { LIVE_STATUSES, NUDGE_STATUSES } from "../tables/nudges.table";

const quoted = (values: readonly string[]) => values.map((value) => `'${value}'`).join(",");
/** The CHECK and the live-nudge index are written from the one status list the code uses. */
const STATUS_CHECK = `CHECK (status IN (${quoted(NUDGE_STATUSES)}))`;
const LIVE = `status IN (${quoted(LIVE_STATUSES)})`;

/**
 * One schema on both engines. The SQLite statements are the ones shipped first and
 * must not change (installed databases ran them); PostgreSQL gets the same tables with
 * its own spellings: identity keys, BIGINT for epoch milliseconds, lower() for NOCASE.
 */
const SQLITE = [
  `CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    segment TEXT, lifecycle_stage TEXT, owner_slack_id TEXT, tier TEXT,
    since_at INTEGER, renewal_at INTEGER,
    loyalty_member INTEGER NOT NULL DEFAULT 0 CHECK (loyalty_member IN (0, 1)),
    churned_at INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  )`,
  "CREATE INDEX customers_name_nocase ON customers (name COLLATE NOCASE)",
  "CREATE INDEX customers_owner ON customers (owner_slack_id)",
  `CREATE TABLE touchpoints (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, occurred_at INTEGER NOT NULL, logged_at INTEGER NOT NULL,
    logged_by TEXT, note TEXT, source TEXT NOT NULL
  )`,
  "CREATE INDEX touchpoints_customer_time ON touchpoints (customer_id, occurred_at)",
  `CREATE TABLE nps_responses (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    responded_at INTEGER NOT NULL, comment TEXT,
    UNIQUE (customer_id, responded_at)
  )`,
  `CREATE TABLE purchases (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    occurred_at INTEGER NOT NULL, amount_cents INTEGER NOT NULL DEFAULT 0,
    dedupe_key TEXT NOT NULL UNIQUE
  )`,
  "CREATE INDEX purchases_customer_time ON purchases (customer_id, occurred_at)",
  `CREATE TABLE rule_sets (
    id INTEGER PRIMARY KEY,
    json TEXT NOT NULL, author TEXT NOT NULL, source TEXT NOT NULL,
    created_at INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 0, note TEXT
  )`,
  "CREATE UNIQUE INDEX rule_sets_one_active ON rule_sets (active) WHERE active = 1",
  `CREATE TABLE sweep_runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL, finished_at INTEGER, status TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0, as_of INTEGER NOT NULL, rule_set_version INTEGER,
    evaluated INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0, held_out INTEGER NOT NULL DEFAULT 0,
    error TEXT, host TEXT NOT NULL, pid INTEGER NOT NULL
  )`,
  `CREATE TABLE nudges (
    id INTEGER PRIMARY KEY,
    rule_id TEXT NOT NULL, rule_set_version INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    status TEXT NOT NULL ${STATUS_CHECK},
    priority INTEGER NOT NULL, explanation TEXT NOT NULL, message TEXT NOT NULL, action TEXT,
    facts TEXT NOT NULL, held_out INTEGER NOT NULL DEFAULT 0,
    resolve_on_touch INTEGER NOT NULL DEFAULT 1, cooldown_days INTEGER NOT NULL,
    destination TEXT NOT NULL, sweep_run_id INTEGER REFERENCES sweep_runs(id),
    last_touch_at INTEGER,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    snoozed_until INTEGER, snoozed_by TEXT,
    closed_at INTEGER, closed_by TEXT, close_reason TEXT, close_note TEXT,
    resolved_touch_id INTEGER REFERENCES touchpoints(id) ON DELETE SET NULL,
    cooldown_until INTEGER, delivered_at INTEGER, slack_channel TEXT, slack_ts TEXT,
    escalated_at INTEGER
  )`,
  // The dedupe guarantee lives here, not in application code: two sweeps, two
  // processes or a rerun after a crash cannot create a second live nudge.
  `CREATE UNIQUE INDEX nudges_one_live ON nudges (rule_id, customer_id) WHERE ${LIVE}`,
  "CREATE INDEX nudges_customer ON nudges (customer_id, status)",
  "CREATE INDEX nudges_rule_customer_closed ON nudges (rule_id, customer_id, cooldown_until)",
  `CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL, nudge_id INTEGER NOT NULL REFERENCES nudges(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, last_error TEXT,
    created_at INTEGER NOT NULL, done_at INTEGER
  )`,
  "CREATE INDEX outbox_pending ON outbox (status, next_attempt_at)",
  `CREATE TABLE leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER NOT NULL, expires_at INTEGER NOT NULL
  )`,
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

const ID = "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
const POSTGRES = [
  `CREATE TABLE customers (
    ${ID},
    external_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    segment TEXT, lifecycle_stage TEXT, owner_slack_id TEXT, tier TEXT,
    since_at BIGINT, renewal_at BIGINT,
    loyalty_member INTEGER NOT NULL DEFAULT 0 CHECK (loyalty_member IN (0, 1)),
    churned_at BIGINT,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL
  )`,
  "CREATE INDEX customers_name_nocase ON customers (lower(name))",
  "CREATE INDEX customers_owner ON customers (owner_slack_id)",
  `CREATE TABLE touchpoints (
    ${ID},
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, occurred_at BIGINT NOT NULL, logged_at BIGINT NOT NULL,
    logged_by TEXT, note TEXT, source TEXT NOT NULL
  )`,
  "CREATE INDEX touchpoints_customer_time ON touchpoints (customer_id, occurred_at)",
  `CREATE TABLE nps_responses (
    ${ID},
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    responded_at BIGINT NOT NULL, comment TEXT,
    UNIQUE (customer_id, responded_at)
  )`,
  `CREATE TABLE purchases (
    ${ID},
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    occurred_at BIGINT NOT NULL, amount_cents BIGINT NOT NULL DEFAULT 0,
    dedupe_key TEXT NOT NULL UNIQUE
  )`,
  "CREATE INDEX purchases_customer_time ON purchases (customer_id, occurred_at)",
  `CREATE TABLE rule_sets (
    ${ID},
    json TEXT NOT NULL, author TEXT NOT NULL, source TEXT NOT NULL,
    created_at BIGINT NOT NULL, active INTEGER NOT NULL DEFAULT 0, note TEXT
  )`,
  "CREATE UNIQUE INDEX rule_sets_one_active ON rule_sets (active) WHERE active = 1",
  `CREATE TABLE sweep_runs (
    ${ID},
    started_at BIGINT NOT NULL, finished_at BIGINT, status TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0, as_of BIGINT NOT NULL, rule_set_version INTEGER,
    evaluated INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0, held_out INTEGER NOT NULL DEFAULT 0,
    error TEXT, host TEXT NOT NULL, pid INTEGER NOT NULL
  )`,
  `CREATE TABLE nudges (
    ${ID},
    rule_id TEXT NOT NULL, rule_set_version INTEGER NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    status TEXT NOT NULL ${STATUS_CHECK},
    priority INTEGER NOT NULL, explanation TEXT NOT NULL, message TEXT NOT NULL, action TEXT,
    facts TEXT NOT NULL, held_out INTEGER NOT NULL DEFAULT 0,
    resolve_on_touch INTEGER NOT NULL DEFAULT 1, cooldown_days INTEGER NOT NULL,
    destination TEXT NOT NULL, sweep_run_id BIGINT REFERENCES sweep_runs(id),
    last_touch_at BIGINT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    snoozed_until BIGINT, snoozed_by TEXT,
    closed_at BIGINT, closed_by TEXT, close_reason TEXT, close_note TEXT,
    resolved_touch_id BIGINT REFERENCES touchpoints(id) ON DELETE SET NULL,
    cooldown_until BIGINT, delivered_at BIGINT, slack_channel TEXT, slack_ts TEXT,
    escalated_at BIGINT
  )`,
  `CREATE UNIQUE INDEX nudges_one_live ON nudges (rule_id, customer_id) WHERE ${LIVE}`,
  "CREATE INDEX nudges_customer ON nudges (customer_id, status)",
  "CREATE INDEX nudges_rule_customer_closed ON nudges (rule_id, customer_id, cooldown_until)",
  `CREATE TABLE outbox (
    ${ID},
    kind TEXT NOT NULL, nudge_id BIGINT NOT NULL REFERENCES nudges(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL, last_error TEXT,
    created_at BIGINT NOT NULL, done_at BIGINT
  )`,
  "CREATE INDEX outbox_pending ON outbox (status, next_attempt_at)",
  `CREATE TABLE leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER NOT NULL, expires_at BIGINT NOT NULL
  )`,
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of isPostgres(db) ? POSTGRES : SQLITE) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["outbox", "nudges", "sweep_runs", "rule_sets", "purchases", "nps_responses", "touchpoints", "customers", "leases", "meta"]) {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db);
  }
}
