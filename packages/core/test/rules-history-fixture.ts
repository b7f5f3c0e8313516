import type { Store } from "@keepwarm/store";

/**
 * A small, hand-checkable history for preview and backtest tests (UTC calendar).
 * "Now" is Monday 2026-06-15 12:00; a 14-day backtest replays 2026-06-01 (Mon,
 * ISO week 23) … 2026-06-14 (Sun, ISO week 24), each day evaluated at 23:59:59.999.
 *
 *   A  smb  touches 05-20 10:00, 06-05 10:00; renewal 08-01
 *   B  smb  never touched; churned 06-10 12:00
 *   C  smb  touches 05-25 10:00, 06-03 09:00
 *   D  mid  NPS 4 on 05-28; touches 05-30 10:00, 06-03 15:00, 06-12 08:00
 *   E  mid  NPS 5 on 05-20, 9 on 06-09 10:00, 3 on 06-11 10:00; never touched
 *   F  mid  not loyal; purchases 05-10, 06-02, 06-04 (10:00); touch 06-06 10:00
 *   G  mid  loyal; 5 purchases 05-01…05-05; renewal 07-01
 *   H  smb  imported 06-10 09:00 without `since`; one touch on 05-01 in its history
 *   I  smb  touches 05-31 10:00, 06-07 10:00
 *   J  smb  imported 06-12 09:00, customer since 2026-01-01; never touched
 * Everyone else was created 2025-01-01.
 */
export const NOW = Date.parse("2026-06-15T12:00:00Z");
const LONG_AGO = Date.parse("2025-01-01T00:00:00Z");
const t = (iso: string): number => Date.parse(`${iso}Z`);

interface Spec {
  id: string;
  name: string;
  segment: string;
  loyal?: boolean;
  createdAt?: number;
  since?: number | null;
  renewal?: number;
  churned?: number;
  touches?: string[];
  nps?: Array<[number, string]>;
  purchases?: string[];
}

const CUSTOMERS: Spec[] = [
  { id: "A", name: "Alder", segment: "smb", touches: ["2026-06-05T10:00", "2026-05-20T10:00"], renewal: t("2026-08-01T00:00") },
  { id: "B", name: "Birch", segment: "smb", churned: t("2026-06-10T12:00") },
  { id: "C", name: "Cedar", segment: "smb", touches: ["2026-05-25T10:00", "2026-06-03T09:00"] },
  { id: "D", name: "Dogwood", segment: "mid", nps: [[4, "2026-05-28T12:00"]], touches: ["2026-05-30T10:00", "2026-06-03T15:00", "2026-06-12T08:00"] },
  {
    id: "E",
    name: "Elm",
    segment: "mid",
    nps: [
      [5, "2026-05-20T12:00"],
      [9, "2026-06-09T10:00"],
      [3, "2026-06-11T10:00"],
    ],
  },
  { id: "F", name: "Fir", segment: "mid", purchases: ["2026-05-10T10:00", "2026-06-02T10:00", "2026-06-04T10:00"], touches: ["2026-06-06T10:00"] },
  {
    id: "G",
    name: "Ginkgo",
    segment: "mid",
    loyal: true,
    purchases: ["2026-05-01T10:00", "2026-05-02T10:00", "2026-05-03T10:00", "2026-05-04T10:00", "2026-05-05T10:00"],
    renewal: t("2026-07-01T00:00"),
  },
  { id: "H", name: "Hazel", segment: "smb", createdAt: t("2026-06-10T09:00"), since: null, touches: ["2026-05-01T10:00"] },
  { id: "I", name: "Ivy", segment: "smb", touches: ["2026-05-31T10:00", "2026-06-07T10:00"] },
  { id: "J", name: "Juniper", segment: "smb", createdAt: t("2026-06-12T09:00"), since: t("2026-01-01T00:00") },
];

export async function buildHistory(store: Store): Promise<void> {
  for (const spec of CUSTOMERS) {
    const created = spec.createdAt ?? LONG_AGO;
    const since = spec.since === undefined ? created : spec.since;
    const { id } = await store.db
      .insertInto("customers")
      .values({
        external_id: spec.id,
        name: spec.name,
        segment: spec.segment,
        owner_slack_id: "U0OWNER1",
        since_at: since,
        renewal_at: spec.renewal ?? null,
        loyalty_member: spec.loyal ? 1 : 0,
        churned_at: spec.churned ?? null,
        attributes: "{}",
        created_at: created,
        updated_at: created,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const at of spec.touches ?? []) {
      await store.db
        .insertInto("touchpoints")
        .values({ customer_id: id, kind: "call", occurred_at: t(at), logged_at: t(at), source: "import" })
        .execute();
    }
    for (const [score, at] of spec.nps ?? [])
      await store.db
        .insertInto("nps_responses")
        .values({ customer_id: id, score, responded_at: t(at) })
        .execute();
    for (const at of spec.purchases ?? []) {
      await store.db
        .insertInto("purchases")
        .values({ customer_id: id, occurred_at: t(at), amount_cents: 5000, dedupe_key: `${spec.id}:${at}` })
        .execute();
    }
  }
}

const nudge = (cooldownDays: number) => ({ message: "{{customer.name}}: {{explanation}}", cooldownDays });

/** The version the fixture treats as active. */
export const ACTIVE_RULES = {
  rules: [
    {
      id: "quiet-10",
      name: "SMB quiet for 10+ days",
      conditions: {
        all: [
          { fact: "segment", operator: "equal", value: "smb" },
          { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 10 },
        ],
      },
      nudge: nudge(3),
    },
    { id: "nps-low", name: "Detractor", conditions: { all: [{ fact: "npsLatest", operator: "lessThanInclusive", value: 6 }] }, nudge: nudge(5) },
    {
      id: "buyer",
      name: "Frequent buyer outside loyalty",
      conditions: {
        all: [
          { fact: "purchasesLast90Days", operator: "greaterThanInclusive", value: 3 },
          { fact: "loyaltyMember", operator: "equal", value: false },
        ],
      },
      nudge: nudge(30),
    },
  ],
};

/** quiet-10 tightened (7 days, touched at least once, cooldown 2), nps-low dropped, a renewal rule added. */
export const CANDIDATE_RULES = {
  rules: [
    {
      id: "quiet-10",
      name: "SMB quiet for 10+ days",
      conditions: {
        all: [
          { fact: "segment", operator: "equal", value: "smb" },
          { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 7 },
          { fact: "neverTouched", operator: "equal", value: false },
        ],
      },
      nudge: nudge(2),
    },
    ACTIVE_RULES.rules[2],
    {
      id: "renewal-soon",
      name: "Renewal within 30 days",
      conditions: {
        all: [
          { fact: "daysUntilRenewal", operator: "lessThanInclusive", value: 30 },
          { fact: "daysUntilRenewal", operator: "greaterThanInclusive", value: 0 },
        ],
      },
      nudge: nudge(30),
    },
  ],
};

/**
 * Every row of every table (kysely's own migration tables included), in key order: the
 * "wrote nothing" proof on either engine — an insert, update or delete anywhere shows.
 */
export async function tableContents(store: Store): Promise<Record<string, string[]>> {
  const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
  const contents: Record<string, string[]> = {};
  for (const table of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    const rows = await store.db
      .selectFrom(table.name as "meta")
      .selectAll()
      .execute();
    contents[table.name] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return contents;
}

/** Row count of every table. */
export async function tableCounts(store: Store): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await tableContents(store)).map(([name, rows]) => [name, rows.length]));
}
