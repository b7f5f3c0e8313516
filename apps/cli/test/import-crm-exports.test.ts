import { join } from "node:path";
import { FakeSlack } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError } from "./spine-fixtures";

/**
 * Files shaped like real CRM exports (apps/cli/test/fixtures/crm-exports, stored
 * byte for byte): a HubSpot companies export (BOM, CRLF, headers with spaces, owners
 * as emails, names and ids), a Salesforce accounts report (bare CR line endings, US
 * dates), touches from a European CRM (semicolons, day-first dates, multi-line notes,
 * an extra column), purchases with a duplicated order and two identical rows, and an
 * NPS survey (tabs, CR). Each goes through the real CLI; the stored rows are compared
 * with what a person reading the file would expect.
 */
const FIXTURES = join(import.meta.dirname, "fixtures", "crm-exports");
const fixture = (name: string) => join(FIXTURES, name);
const at = (iso: string) => Date.parse(iso);

let box: ReturnType<typeof cliSandbox>;
let slack: FakeSlack | undefined;
beforeEach(() => {
  box = cliSandbox();
});
afterEach(async () => {
  await slack?.stop();
  slack = undefined;
  box.cleanup();
});

const customers = () =>
  box.withStore(async (store) =>
    (
      await store.db
        .selectFrom("customers")
        .select(["external_id", "name", "segment", "lifecycle_stage", "owner_slack_id", "owner_ref", "since_at", "attributes"])
        .orderBy("external_id")
        .execute()
    ).map((row) => ({ ...row, attributes: JSON.parse(row.attributes) as Record<string, unknown> })),
  );

describe("keepwarm import: real CRM exports, without hand-editing", () => {
  it("imports HubSpot and Salesforce exports, resolves owners through Slack, and reads European touches, orders and an NPS survey exactly", {
    timeout: 300_000,
  }, async () => {
    slack = await new FakeSlack().start();
    slack.users.push(
      { id: "U0JANE001", email: "jane.doe@example.com", realName: "Jane Doe" },
      { id: "U0REP0003", email: "rita@example.com", realName: "Rita Rep" },
    );
    const slackEnv = { SLACK_BOT_TOKEN: "xoxb-test", SLACK_API_URL: slack.apiUrl };

    // HubSpot: the shipped mapping; unmapped columns become attributes under their normalised names.
    const hubspot = await box.cli(["import", "customers", fixture("hubspot-companies.csv"), "--mapping", "hubspot-companies"]);
    expect(hubspot.code, hubspot.stderr).toBe(0);
    expect(hubspot.stdout).toContain("imported 4 customers rows from");
    expect(hubspot.stdout).toContain("(comma-separated, CRLF line endings): 4 new, 0 updated, 0 already present");
    expect(hubspot.stderr).toContain('note: column "Annual Revenue" is imported as attributes.annual_revenue');
    expect(hubspot.stderr).toContain(
      "warning: 3 owners without a Slack member yet: jane.doe@example.com (1 row), Bob Stone (1 row), nobody@example.com (1 row)",
    );

    // owners sync: emails through users.lookupByEmail, the id-only owner named through users.info.
    const sync = await box.cli(["owners", "sync"], slackEnv);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toContain("jane.doe@example.com → U0JANE001 (1 customer)");
    expect(sync.stdout).toContain("owners sync: 1 resolved, 2 unresolved, 2 reps named in the directory");
    expect(sync.stderr).toContain("no Slack member found for nobody@example.com, Bob Stone");
    expect(slack.callsOf("users.lookupByEmail").map((c) => c.args.email)).toEqual(["jane.doe@example.com", "nobody@example.com"]);

    // Salesforce: US dates are refused until the file says how it writes them, every row named.
    const undated = await box.cli(["import", "customers", fixture("salesforce-accounts.csv"), "--mapping", "salesforce-accounts"]);
    expectUserError(undated, /3 invalid rows in .*salesforce-accounts\.csv; nothing was imported/);
    expect(undated.stderr).toContain(
      'salesforce-accounts.csv:2: since: "11/20/2025" is not an ISO 8601 date (YYYY-MM-DD); it looks month-first: pass --date-format month-first',
    );
    expect(undated.stderr).toContain(
      'salesforce-accounts.csv:3: since: "2/3/2026 4:05 PM" is not an ISO 8601 date (YYYY-MM-DD); it could be day-first or month-first: pass --date-format day-first or month-first',
    );
    const salesforce = await box.cli([
      "import",
      "customers",
      fixture("salesforce-accounts.csv"),
      "--mapping",
      "salesforce-accounts",
      "--date-format",
      "month-first",
    ]);
    expect(salesforce.code, salesforce.stderr).toBe(0);
    expect(salesforce.stdout).toContain("(comma-separated, CR line endings): 3 new, 0 updated, 0 already present");
    expect(salesforce.stderr).toContain("warning: 1 owner without a Slack member yet: Norman O. (1 row)");

    expect(await customers()).toEqual([
      {
        external_id: "001A",
        name: "Stark Industries",
        segment: "customer - direct",
        lifecycle_stage: null,
        owner_slack_id: "U0JANE001",
        owner_ref: null,
        since_at: at("2025-11-20T00:00:00Z"),
        attributes: { industry: "Manufacturing", annual_revenue: 900000000, billing_country: "USA" },
      },
      {
        external_id: "001B",
        name: "Wayne Enterprises",
        segment: "customer - channel",
        lifecycle_stage: null,
        owner_slack_id: "U0REP0003",
        owner_ref: null,
        since_at: at("2026-02-03T16:05:00Z"),
        attributes: { billing_country: "USA" },
      },
      {
        external_id: "001C",
        name: "Oscorp",
        segment: "prospect",
        lifecycle_stage: null,
        owner_slack_id: null,
        owner_ref: "Norman O.",
        since_at: at("2025-12-31T00:00:00Z"),
        attributes: { industry: "Biotech" },
      },
      {
        external_id: "9001",
        name: "Acme Corp",
        segment: "enterprise",
        lifecycle_stage: "customer",
        owner_slack_id: "U0JANE001",
        owner_ref: null,
        since_at: at("2025-01-15T10:30:00Z"),
        attributes: { annual_revenue: 5000000, number_of_employees: 250, country_region: "Germany", about_us: "Makers of anvils.\r\nSince 1949." },
      },
      {
        external_id: "9002",
        name: "Globex",
        segment: "smb",
        lifecycle_stage: "customer",
        owner_slack_id: null,
        owner_ref: "Bob Stone",
        since_at: at("2025-03-01T08:00:00Z"),
        attributes: { number_of_employees: 12, country_region: "France" },
      },
      {
        external_id: "9003",
        name: "Initech, Inc.",
        segment: "mid-market",
        lifecycle_stage: "opportunity",
        owner_slack_id: "U0REP0003",
        owner_ref: null,
        since_at: at("2024-06-30T17:45:00Z"),
        attributes: { annual_revenue: 120000.5, number_of_employees: 40, country_region: "United States", about_us: 'Says "hello"' },
      },
      {
        external_id: "9004",
        name: "Umbrella",
        segment: "smb",
        lifecycle_stage: "customer",
        owner_slack_id: null,
        owner_ref: "nobody@example.com",
        since_at: at("2025-05-05T00:00:00Z"),
        attributes: {},
      },
    ]);

    // Touches: mapped headers, day-first dates; a dry run first writes nothing.
    const touchArgs = [
      "import",
      "touches",
      fixture("touches-eu.csv"),
      "--map",
      "Date=occurred_at,Type=kind,Notes=note,Activity ID=external_id",
      "--date-format",
      "day-first",
    ];
    const dry = await box.cli([...touchArgs, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      "dry run of 4 touches rows from",
      // (the file name sits between)
    );
    expect(dry.stdout).toContain(
      "(semicolon-separated, CRLF line endings): would create 4, leave 0 as already present, refuse 0 invalid rows; nothing was written",
    );
    // Sample rows of what would be written, by the customer's id as in the file.
    expect(dry.stdout).toContain('  new: 9001 2026-11-20T14:30:00Z call "Renewal talk;\\r\\nbudget approved" by U0JANE001 (external_id A-1)');
    expect(await box.withStore(async (store) => (await store.db.selectFrom("touchpoints").select("id").execute()).length)).toBe(0);
    const touches = await box.cli(touchArgs);
    expect(touches.code, touches.stderr).toBe(0);
    expect(touches.stdout).toContain(": 4 new, 0 already present");
    expect(touches.stderr).toContain('note: column "Duration (min)" is not a touches column and is ignored');
    const again = await box.cli(touchArgs);
    expect(again.stdout).toContain(": 0 new, 4 already present");
    const storedTouches = await box.withStore((store) =>
      store.db
        .selectFrom("touchpoints")
        .innerJoin("customers", "customers.id", "touchpoints.customer_id")
        .select(["customers.external_id as customer", "kind", "occurred_at", "note", "logged_by", "touchpoints.external_id", "source"])
        .orderBy("touchpoints.id")
        .execute(),
    );
    expect(storedTouches).toEqual([
      {
        customer: "9001",
        kind: "call",
        occurred_at: at("2026-11-20T14:30:00Z"),
        note: "Renewal talk;\r\nbudget approved",
        logged_by: "U0JANE001",
        external_id: "A-1",
        source: "import",
      },
      {
        customer: "9001",
        kind: "call",
        occurred_at: at("2026-11-20T14:30:00Z"),
        note: "Renewal talk;\r\nbudget approved",
        logged_by: "U0JANE001",
        external_id: "A-2",
        source: "import",
      },
      { customer: "9002", kind: "email", occurred_at: at("2026-04-03T00:00:00Z"), note: null, logged_by: null, external_id: "A-3", source: "import" },
      {
        customer: "9003",
        kind: "meeting",
        occurred_at: at("2026-10-05T09:00:00Z"),
        note: 'Quarterly review, "QBR"',
        logged_by: "U0REP0003",
        external_id: "A-4",
        source: "import",
      },
    ]);

    // Purchases: the same order twice is one purchase; two identical rows without an order are two.
    const purchases = await box.cli(["import", "purchases", fixture("purchases.csv")]);
    expect(purchases.code, purchases.stderr).toBe(0);
    expect(purchases.stdout).toContain("(comma-separated, LF line endings): 4 new, 1 already present");
    const purchasesAgain = await box.cli(["import", "purchases", fixture("purchases.csv")]);
    expect(purchasesAgain.stdout).toContain(": 0 new, 5 already present");
    const storedPurchases = await box.withStore((store) =>
      store.db
        .selectFrom("purchases")
        .innerJoin("customers", "customers.id", "purchases.customer_id")
        .select(["customers.external_id as customer", "occurred_at", "amount_cents", "dedupe_key"])
        .orderBy("purchases.id")
        .execute(),
    );
    expect(storedPurchases.map(({ dedupe_key, ...row }) => ({ ...row, order: dedupe_key.startsWith("order:") ? dedupe_key.slice(6) : null }))).toEqual([
      { customer: "9001", occurred_at: at("2026-10-01T00:00:00Z"), amount_cents: 120000, order: "SO-1" },
      { customer: "9002", occurred_at: at("2026-10-02T00:00:00Z"), amount_cents: 9990, order: null },
      { customer: "9002", occurred_at: at("2026-10-02T00:00:00Z"), amount_cents: 9990, order: null },
      { customer: "9003", occurred_at: at("2026-10-03T15:00:00Z"), amount_cents: 5000, order: "SO-2" },
    ]);

    // NPS: tabs and CR line endings, a tab and a line break inside quoted comments.
    const nps = await box.cli(["import", "nps", fixture("nps.tsv")]);
    expect(nps.code, nps.stderr).toBe(0);
    expect(nps.stdout).toContain("(tab-separated, CR line endings): 2 new, 0 already present");
    const storedNps = await box.withStore((store) =>
      store.db
        .selectFrom("nps_responses")
        .innerJoin("customers", "customers.id", "nps_responses.customer_id")
        .select(["customers.external_id as customer", "score", "responded_at", "comment", "nps_responses.external_id"])
        .orderBy("nps_responses.id")
        .execute(),
    );
    expect(storedNps).toEqual([
      { customer: "9001", score: 9, responded_at: at("2026-11-01T10:00:00Z"), comment: "Great\tsupport", external_id: "R-1" },
      { customer: "9002", score: 4, responded_at: at("2026-11-02T10:00:00Z"), comment: "Slow\ronboarding", external_id: "R-2" },
    ]);

    // Rules name what the import stored: a value no customer has is a warning with the stored spelling.
    const rules = box.file(
      "rules.json",
      JSON.stringify({
        rules: [
          {
            id: "big-quiet",
            name: "Big and quiet",
            conditions: {
              all: [
                { fact: "segment", operator: "equal", value: "Enterprise" },
                { fact: "attributes.country_region", operator: "in", value: ["Germany", "Spain"] },
                { fact: "daysSinceLastTouch", operator: "greaterThan", value: 30 },
              ],
            },
            nudge: { message: "Call {{customer.name}}" },
          },
        ],
      }),
    );
    const validated = await box.cli(["rules", "validate", rules]);
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stdout).toContain("valid (1 rules, 2 warnings)");
    expect(validated.stderr).toContain('rules[0].conditions.all[0].value: no customer has segment "Enterprise" (did you mean "enterprise"?)');
    expect(validated.stderr).toContain('rules[0].conditions.all[1].value[1]: no customer has attributes.country_region "Spain"');

    // Reps by name: the directory the sync filled.
    const stats = await box.cli(["stats", "--since", "2026-01-01"]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/Jane Doe\s+[\d.]+ \/week {2}\(2 touches\)/);
    expect(stats.stdout).toMatch(/Rita Rep\s+[\d.]+ \/week {2}\(1 touches\)/);
  });

  it("counts every invalid row exactly, prints the first 50 by file and line, and gives all of them in --json", { timeout: 120_000 }, async () => {
    const rows = ["customer_id,occurred_at"];
    for (let i = 0; i < 5000; i++) rows.push(`C-${i},not a date`);
    const file = box.file("bad-touches.csv", `${rows.join("\n")}\n`);
    const result = await box.cli(["import", "touches", file]);
    expectUserError(result, /5,000 invalid rows in .*bad-touches\.csv; nothing was imported/);
    const errorLines = result.stderr.split("\n").filter((line) => line.includes("bad-touches.csv:"));
    expect(errorLines).toHaveLength(50);
    expect(errorLines[0]).toBe(`${file}:2: occurred_at: "not a date" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])`);
    expect(result.stderr).toContain("… and 4,950 more invalid rows (all of them with --json)");
    const json = await box.cli(["import", "touches", file, "--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { invalid: Array<{ file: string; line: number }>; committed: boolean };
    expect(report.committed).toBe(false);
    expect(report.invalid).toHaveLength(5000);
    expect(report.invalid.map((e) => e.line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 2));
    expect(new Set(report.invalid.map((e) => e.file))).toEqual(new Set([file]));
  });
});
