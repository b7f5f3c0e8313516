import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliSandbox, isoDaysAgo } from "./spine-fixtures";

/** Import → sweep → a logged touch resolves the nudge: the whole loop through the CLI process. */
const box = cliSandbox();
afterAll(() => box.cleanup());

const statusOf = () =>
  box.withStore(async (store) =>
    Object.fromEntries(
      (
        await store.db
          .selectFrom("nudges as n")
          .innerJoin("customers as c", "c.id", "n.customer_id")
          .select(["c.external_id as id", "n.status", "n.close_reason as reason"])
          .orderBy("n.id")
          .execute()
      ).map((row) => [row.id, `${row.status}${row.reason ? ` (${row.reason})` : ""}`]),
    ),
  );

beforeAll(async () => {
  const customers = [
    "id,name,segment,since,owner_slack_id",
    ...["C-1,Acme Corp", "C-2,Globex", "C-3,Initech"].map((c) => `${c},smb,${isoDaysAgo(400)},U0REP1`),
  ].join("\n");
  const touches = ["customer_id,occurred_at,kind", `C-1,${isoDaysAgo(40)},call`, `C-2,${isoDaysAgo(40)},email`, `C-3,${isoDaysAgo(40)},meeting`].join("\n");
  for (const [kind, content] of [
    ["customers", customers],
    ["touches", touches],
  ] as const) {
    const result = await box.cli(["import", kind, box.file(`${kind}.csv`, content)]);
    expect(result.code, result.stderr).toBe(0);
  }
  const sweep = await box.cli(["sweep", "--json"]);
  expect(sweep.code, sweep.stderr).toBe(0);
  expect((JSON.parse(sweep.stdout) as { nudges: unknown[] }).nudges).toHaveLength(3);
});

describe("resolution by a logged touch", () => {
  it("keepwarm touch resolves the customer's open no-contact nudge", async () => {
    const result = await box.cli(["touch", "Acme", "Corp", "call", "today", "all good", "--by", "U0REP1"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("logged call with Acme Corp");
    expect(result.stdout).toContain("resolved 1 nudge: no-contact");
    expect(await statusOf()).toEqual({ "C-1": "resolved (touch)", "C-2": "open", "C-3": "open" });
    const closedBy = await box.withStore((store) => store.db.selectFrom("nudges").select("closed_by").where("status", "=", "resolved").executeTakeFirst());
    expect(closedBy?.closed_by).toBe("U0REP1");
  });

  it("a touches CSV import resolves with a recent touch, but an old touch imported late does not", async () => {
    const late = ["customer_id,occurred_at,kind", `C-2,${isoDaysAgo(2)},call`, `C-3,${isoDaysAgo(50)},call`].join("\n");
    const result = await box.cli(["import", "touches", box.file("late.csv", late)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("1 nudges resolved");
    expect(await statusOf()).toEqual({ "C-1": "resolved (touch)", "C-2": "resolved (touch)", "C-3": "open" });
  });

  it("the next sweep keeps the still-quiet customer's nudge and creates nothing new", async () => {
    const result = await box.cli(["sweep", "--json"]);
    expect((JSON.parse(result.stdout) as { nudges: unknown[] }).nudges).toEqual([]);
    expect(await statusOf()).toEqual({ "C-1": "resolved (touch)", "C-2": "resolved (touch)", "C-3": "open" });
  });
});
