import { applyRuleSet } from "@keepwarm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliSandbox, isoDaysAgo } from "./spine-fixtures";

/** `keepwarm touch` re-evaluates the customer's rules itself and says what changed. */
const box = cliSandbox();
afterAll(() => box.cleanup());

/** "quiet" is not resolved by a touch (resolveOnTouch false): only re-evaluating the rules closes it. */
const RULES = JSON.stringify({
  rules: [
    {
      id: "quiet",
      name: "Quiet for 30 days",
      conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 }] },
      nudge: { message: "{{customer.name}} is quiet", resolveOnTouch: false },
    },
  ],
});

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
  const customers = ["id,name,segment,since,owner_slack_id", `C-1,Acme Corp,smb,${isoDaysAgo(400)},U0REP1`, `C-2,Globex,smb,${isoDaysAgo(400)},U0REP1`].join(
    "\n",
  );
  const imported = await box.cli(["import", "customers", box.file("customers.csv", customers)]);
  expect(imported.code, imported.stderr).toBe(0);
  await box.withStore((store) => applyRuleSet(store, RULES, { author: "test", source: "test" }));
  const sweep = await box.cli(["sweep", "--json"]);
  expect(sweep.code, sweep.stderr).toBe(0);
  expect(await statusOf()).toEqual({ "C-1": "open", "C-2": "open" });
});

describe("keepwarm touch re-evaluates the customer", () => {
  it("a touch that clears the rule's conditions expires its nudge at once and says so", async () => {
    const result = await box.cli(["touch", "Acme", "Corp", "call", "today"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("logged call with Acme Corp");
    expect(result.stdout).toContain("rules: re-evaluated; 1 nudge expired (conditions cleared)");
    expect(await statusOf()).toEqual({ "C-1": "expired (conditions-cleared)", "C-2": "open" });
    const queued = await box.withStore((store) => store.db.selectFrom("evaluation_queue").select("customer_id").execute());
    expect(queued).toEqual([]);
  });

  it("an old touch logged late changes no fact the rule reads: no change, in --json too", async () => {
    const result = await box.cli(["touch", "Globex", "email", isoDaysAgo(45).slice(0, 10), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).evaluation).toEqual({ status: "evaluated", created: [], expired: 0, reopened: 0 });
    expect(await statusOf()).toEqual({ "C-1": "expired (conditions-cleared)", "C-2": "open" });
  });
});
