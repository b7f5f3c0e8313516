import { importCsv } from "@keepwarm/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError, isoDaysAgo } from "./spine-fixtures";

let box: ReturnType<typeof cliSandbox>;
beforeEach(() => {
  box = cliSandbox();
});
afterEach(() => box.cleanup());

const CUSTOMERS = ["id,name,segment,since,loyalty_member,region", "C-1,Acme Corp,enterprise,2025-01-15,no,emea", "C-2,Globex,smb,2025-03-01,yes,"].join("\n");
const count = (table: "touchpoints" | "nps_responses") =>
  box.withStore(async (store) =>
    Number(
      (
        await store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
const importFile = (kind: string, name: string, content: string, ...flags: string[]) => box.cli(["import", kind, box.file(name, content), ...flags]);
/** Customers for the other kinds, imported in-process: the CLI path of customers has its own test. */
const importCustomers = () =>
  box.withStore(async (store) => {
    const report = await importCsv(store, "customers", box.file("seed-customers.csv", CUSTOMERS));
    expect(report.committed).toBe(true);
  });

describe("keepwarm import: valid files", () => {
  it("imports customers with unknown columns as attributes, and re-importing adds nothing twice", async () => {
    const first = await importFile("customers", "customers.csv", CUSTOMERS);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("2 new");
    const again = await box.cli(["import", "customers", box.file("customers.csv")]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 new, 0 updated, 2 already present");
    const rows = await box.withStore((store) =>
      store.db.selectFrom("customers").select(["external_id", "segment", "loyalty_member", "attributes"]).orderBy("id").execute(),
    );
    expect(rows).toEqual([
      { external_id: "C-1", segment: "enterprise", loyalty_member: 0, attributes: '{"region":"emea"}' },
      { external_id: "C-2", segment: "smb", loyalty_member: 1, attributes: "{}" },
    ]);
  });

  it("keeps a quoted field with commas and newlines, and a UTF-8 name, exactly", async () => {
    const csv = ["\ufeffid,name,notes", 'C-9,"Søren & Co — Café","line one, with a comma', 'line two ""quoted"""', "C-10,Plain,"].join("\r\n");
    const result = await importFile("customers", "utf8.csv", csv);
    expect(result.code, result.stderr).toBe(0);
    const rows = await box.withStore(async (store) =>
      (await store.db.selectFrom("customers").select(["name", "attributes"]).orderBy("id").execute()).map((row) => ({
        name: row.name,
        notes: (JSON.parse(row.attributes) as { notes?: string }).notes ?? null,
      })),
    );
    expect(rows).toEqual([
      { name: "Søren & Co — Café", notes: 'line one, with a comma\r\nline two "quoted"' },
      { name: "Plain", notes: null },
    ]);
  });
});

describe("keepwarm import: bad input", () => {
  it("rejects a touches file whose required column is misspelt, naming the file and the column to map, and imports nothing", async () => {
    await importCustomers();
    const result = await importFile("touches", "touches.csv", `customer_id,occured_at\nC-1,${isoDaysAgo(1)}\n`);
    expectUserError(
      result,
      /touches\.csv: line 1: missing required column "occurred_at" \(did you mean "occured_at"\? map it with --map "occured_at=occurred_at"\)/,
    );
    expect(await count("touchpoints")).toBe(0);
  });

  it("reports every bad row by line number and imports nothing (all-or-nothing)", async () => {
    await importCustomers();
    const csv = [
      "customer_id,responded_at,score",
      `C-1,${isoDaysAgo(9)},8`,
      `C-1,2026-02-30,7`,
      `C-2,${isoDaysAgo(8)},11`,
      `C-404,${isoDaysAgo(7)},5`,
      `C-2,${isoDaysAgo(6)},6`,
    ].join("\n");
    const result = await importFile("nps", "nps.csv", csv);
    const errorLine = expectUserError(result, /3 invalid rows in .*nps\.csv; nothing was imported/);
    expect(errorLine).toContain("--skip-invalid");
    expect(result.stderr).toMatch(/nps\.csv:3: responded_at: "2026-02-30" is not an ISO 8601 date/);
    expect(result.stderr).toMatch(/nps\.csv:4: score: "11" is not a whole number from 0 to 10/);
    expect(result.stderr).toMatch(/nps\.csv:5: unknown customer "C-404"/);
    expect(result.stderr).not.toMatch(/nps\.csv:[26]:/);
    expect(await count("nps_responses")).toBe(0);
  });

  it("--skip-invalid imports the good rows and still reports the bad ones", async () => {
    await importCustomers();
    const csv = ["customer_id,responded_at,score", `C-1,${isoDaysAgo(9)},8`, `C-2,${isoDaysAgo(8)},11`, `C-2,${isoDaysAgo(6)},6`].join("\n");
    const result = await importFile("nps", "nps.csv", csv, "--skip-invalid");
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/nps\.csv:3: score: "11"/);
    expect(result.stdout).toContain("2 new");
    expect(result.stdout).toContain("1 invalid skipped");
    expect(await count("nps_responses")).toBe(2);
  });

  it("rejects a missing file in one line", async () => {
    const result = await box.cli(["import", "customers", box.file("nope.csv")]);
    expectUserError(result, /cannot read .*nope\.csv: no such file/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("rejects an empty file in one line", async () => {
    const result = await importFile("customers", "empty.csv", "");
    expectUserError(result, /empty\.csv is empty: expected a header row/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("rejects an unknown import kind", async () => {
    const result = await importFile("invoices", "x.csv", "a\n");
    expectUserError(result, /cannot import "invoices": choose customers, touches, nps, purchases/);
  });
});
