import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnMapping, importCsv, UserError } from "../src/index";
import { countRows, daysBefore, freshIngestStore, type IngestFixture, iso, NOW } from "./ingest-fixtures";

let fx: IngestFixture;
beforeEach(async () => {
  fx = await freshIngestStore();
});
afterEach(() => fx.close());

const seedCustomers = async () => {
  const file = fx.csv("customers.csv", ["id,name", "C-1,Acme", "C-2,Globex"]);
  expect(await importCsv(fx.store, "customers", file, { now: daysBefore(300) })).toMatchObject({ committed: true, inserted: 2 });
};

describe("import columns: headers, mappings and the refusals that name the file", () => {
  it("refuses a mapping that cannot apply, in one line naming the file or the option", async () => {
    const touches = fx.csv("touches.csv", ["Customer,When", `C-1,${iso(daysBefore(1))}`]);
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [
        () => importCsv(fx.store, "touches", touches, { mapping: columnMapping("touches", { map: "Customer=customer_id,Wen=occurred_at" }) }),
        /touches\.csv: line 1: --map names column "Wen", which the file does not have \(did you mean "When"\?\); its columns are Customer, When$/,
      ],
      [
        () => importCsv(fx.store, "touches", touches, { mapping: columnMapping("touches", { map: "Customer=customer_id,When=occured_at" }) }),
        /touches\.csv: line 1: --map maps "When" to "occured_at", which is not a touches column \(did you mean "occurred_at"\?\)/,
      ],
      [
        () => Promise.resolve().then(() => columnMapping("touches", { mapping: "hubspot-companies" })),
        /^--mapping hubspot-companies maps customers files, not touches$/,
      ],
      [
        () => Promise.resolve().then(() => columnMapping("touches", { mapping: "no-such.json" })),
        /^--mapping no-such\.json: no such file \(shipped mappings: /,
      ],
      [() => Promise.resolve().then(() => columnMapping("touches", { map: "Customer" })), /^--map: "Customer" is not HEADER=COLUMN/],
      [() => importCsv(fx.store, "customers", fx.csv("c.csv", ["id,Name,name", "C-1,a,b"])), /c\.csv: line 1: columns "Name" and "name" both fill "name"$/],
      [() => importCsv(fx.store, "customers", fx.csv("empty.csv", [])), /empty\.csv is empty: expected a header row/],
    ];
    for (const [attempt, message] of cases) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(message);
    }
    expect(await countRows(fx.store, "customers")).toBe(0);
  });

  it("maps with --map over a mapping file, ignores a column mapped to nothing, and reads headers in any case and spacing", async () => {
    await seedCustomers();
    const file = fx.csv("calls.csv", ["CUSTOMER ID,When,  Kind ,Internal", `C-1,${iso(daysBefore(2))},CALL,x`, `C-2,${iso(daysBefore(1))},email,y`]);
    const report = await importCsv(fx.store, "touches", file, { now: NOW, mapping: columnMapping("touches", { map: "When=occurred_at,Internal=" }) });
    expect(report).toMatchObject({ committed: true, inserted: 2, notes: [] });
    expect(await fx.store.db.selectFrom("touchpoints").select(["kind"]).orderBy("id").execute()).toEqual([{ kind: "call" }, { kind: "email" }]);
  });

  it("an order_id on two lines with different content is refused, naming the first line", async () => {
    await seedCustomers();
    const file = fx.csv("orders.csv", ["customer_id,occurred_at,amount,order_id", `C-1,${iso(daysBefore(2))},10,SO-9`, `C-2,${iso(daysBefore(2))},10,SO-9`]);
    const report = await importCsv(fx.store, "purchases", file, { now: NOW });
    expect(report.invalid).toEqual([{ file, line: 3, message: 'order_id "SO-9" is on line 2 too, with another customer, date or amount' }]);
    expect(await countRows(fx.store, "purchases")).toBe(0);
  });

  it("a dry run counts what customers would be created, updated and refused, with samples, and writes nothing", async () => {
    await seedCustomers();
    const file = fx.csv("next.csv", ["id,name,segment", "C-1,Acme,smb", "C-2,Globex,enterprise", "C-3,Initech,smb", "C-4,,smb"]);
    const report = await importCsv(fx.store, "customers", file, { now: NOW, dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      committed: false,
      inserted: 1,
      updated: 2,
      unchanged: 0,
      samples: { inserted: ["C-3"], updated: ["C-1", "C-2"], unchanged: [] },
    });
    expect(report.invalid).toEqual([{ file, line: 5, message: "name is empty" }]);
    expect(await fx.store.db.selectFrom("customers").select(["external_id", "segment"]).orderBy("id").execute()).toEqual([
      { external_id: "C-1", segment: null },
      { external_id: "C-2", segment: null },
    ]);
  });
});
