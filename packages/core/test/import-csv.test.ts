import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCsv, UserError } from "../src/index";
import { daysBefore, type Fixture, freshStore, NOW, nudges, sweepAt } from "./sweep-fixtures";

let fx: Fixture;
let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  fx = await freshStore();
  tmp = tempDir("keepwarm-import-");
});
afterEach(async () => {
  await fx.close();
  tmp.cleanup();
});

const csvFile = (name: string, lines: string[]): string => {
  const path = join(tmp.dir, name);
  writeFileSync(path, lines.join("\n"));
  return path;
};
const iso = (ms: number) => new Date(ms).toISOString();
const count = (table: string) => fx.store.sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const seedCustomers = async () => {
  const report = await importCsv(
    fx.store,
    "customers",
    csvFile("customers.csv", ["id,name,segment,since", `C-1,Acme,smb,${iso(daysBefore(400))}`, `C-2,Globex,smb,${iso(daysBefore(400))}`]),
    { now: daysBefore(300) },
  );
  expect(report).toMatchObject({ committed: true, inserted: 2 });
};

describe("importCsv", () => {
  it("re-importing the same touches, NPS and purchases adds nothing twice", async () => {
    await seedCustomers();
    const files = {
      touches: csvFile("touches.csv", [
        "customer_id,occurred_at,kind,note",
        `C-1,${iso(daysBefore(3))},call,"hello, again"`,
        `C-2,${iso(daysBefore(2))},email,`,
      ]),
      nps: csvFile("nps.csv", ["customer_id,responded_at,score,comment", `C-1,${iso(daysBefore(5))},9,`, `C-1,${iso(daysBefore(1))},4,slow support`]),
      purchases: csvFile("purchases.csv", ["customer_id,occurred_at,amount", `C-2,${iso(daysBefore(4))},$19.99`, `C-2,${iso(daysBefore(3))},5`]),
    } as const;
    for (const [kind, file] of Object.entries(files) as Array<[keyof typeof files, string]>) {
      expect(await importCsv(fx.store, kind, file, { now: NOW })).toMatchObject({ committed: true, inserted: 2, unchanged: 0 });
      expect(await importCsv(fx.store, kind, file, { now: NOW })).toMatchObject({ committed: true, inserted: 0, unchanged: 2 });
    }
    expect([count("touchpoints"), count("nps_responses"), count("purchases")]).toEqual([2, 2, 2]);
    expect(fx.store.sqlite.prepare("SELECT sum(amount_cents) FROM purchases").pluck().get()).toBe(2499);
  });

  it("re-importing customers updates changed fields in place and never duplicates", async () => {
    await seedCustomers();
    const changed = csvFile("changed.csv", ["id,name,segment", "C-1,Acme Corp,enterprise", "C-2,Globex,smb"]);
    expect(await importCsv(fx.store, "customers", changed, { now: NOW })).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    expect(fx.store.sqlite.prepare("SELECT external_id, name, segment FROM customers ORDER BY id").all()).toEqual([
      { external_id: "C-1", name: "Acme Corp", segment: "enterprise" },
      { external_id: "C-2", name: "Globex", segment: "smb" },
    ]);
  });

  it("numbers a bad row by its physical line, after a quoted field spanning lines", async () => {
    await seedCustomers();
    const file = csvFile("touches.csv", [
      "customer_id,occurred_at,note",
      `C-1,${iso(daysBefore(1))},"first line`,
      'second, line"',
      "C-1,yesterday-ish,x",
      `C-2,${iso(daysBefore(1))}`,
    ]);
    const report = await importCsv(fx.store, "touches", file, { now: NOW });
    expect(report.committed).toBe(false);
    expect(report.invalid).toEqual([
      { line: 4, message: 'occurred_at: "yesterday-ish" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])' },
      { line: 5, message: "has 2 fields, the header has 3" },
    ]);
    expect(count("touchpoints")).toBe(0);
  });

  it("reports each bad value: bad date, score 11, unknown customer, bad boolean, future touch", async () => {
    await seedCustomers();
    const nps = await importCsv(
      fx.store,
      "nps",
      csvFile("nps.csv", [
        "customer_id,responded_at,score",
        `C-1,2026-13-01,5`,
        `C-1,${iso(daysBefore(1))},11`,
        `C-9,${iso(daysBefore(1))},5`,
        `C-1,${iso(daysBefore(1))},-1`,
      ]),
      { now: NOW },
    );
    expect(nps.invalid.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '2: responded_at: "2026-13-01" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])',
      '3: score: "11" is not a whole number from 0 to 10',
      '4: unknown customer "C-9" (import customers first)',
      '5: score: "-1" is not a whole number from 0 to 10',
    ]);
    const customers = await importCsv(fx.store, "customers", csvFile("c.csv", ["id,name,loyalty_member", "C-3,Initech,maybe", ",Nameless,no"]), { now: NOW });
    expect(customers.invalid.map((e) => `${e.line}: ${e.message}`)).toEqual(['2: loyalty_member: "maybe" is not true/false/yes/no/1/0', "3: id is empty"]);
    const touches = await importCsv(
      fx.store,
      "touches",
      csvFile("t.csv", ["customer_id,occurred_at,kind", `C-1,${iso(NOW + 3_600_000)},call`, `C-1,${iso(daysBefore(1))},fax`]),
      { now: NOW },
    );
    expect(touches.invalid.map((e) => e.line)).toEqual([2, 3]);
    expect(touches.invalid[1]?.message).toMatch(/^kind must be one of call, email, meeting, visit, chat, other/);
    expect([count("nps_responses"), count("customers"), count("touchpoints")]).toEqual([0, 2, 0]);
  });

  it("rejects a file-level problem as one UserError: missing column, unknown column, duplicate column, malformed CSV", async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ["customers", ["identifier,name", "C-1,Acme"], /^line 1: missing required column "id"$/],
      ["touches", ["customer_id,occured_at", "C-1,2026-01-01"], /^line 1: unknown column "occured_at" \(did you mean "occurred_at"\?\)/],
      ["nps", ["customer_id,score,score,responded_at"], /^line 1: column "score" appears twice$/],
      ["customers", ["id,name", 'C-1,"Acme'], /: line \d+: malformed CSV/],
      ["customers", ["id,name", "C-1,Acme", 'C-2,O\'Brien "Bob" Ltd'], /: line 3: malformed CSV \(a quote is found on field 1/],
    ];
    for (const [kind, lines, pattern] of cases) {
      const attempt = importCsv(fx.store, kind as "customers", csvFile(`${kind}.csv`, lines), { now: NOW });
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(importCsv(fx.store, kind as "customers", csvFile(`${kind}.csv`, lines), { now: NOW })).rejects.toThrow(pattern);
    }
    expect(count("customers")).toBe(0);
  });

  it("a touches import resolves the nudges it answers; an old touch imported late does not", async () => {
    await seedCustomers();
    await importCsv(fx.store, "touches", csvFile("old.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(40))}`, `C-2,${iso(daysBefore(40))}`]), {
      now: daysBefore(39),
    });
    expect((await sweepAt(fx.store, NOW)).created).toBe(2);
    const late = csvFile("late.csv", ["customer_id,occurred_at,kind", `C-1,${iso(daysBefore(1))},call`, `C-2,${iso(daysBefore(45))},call`]);
    expect(await importCsv(fx.store, "touches", late, { now: NOW })).toMatchObject({ committed: true, inserted: 2, resolvedNudges: 1 });
    expect((await nudges(fx.store)).map((n) => `${n.customer} ${n.status}`)).toEqual(["C-1 resolved", "C-2 open"]);
  });

  it("a failed (all-or-nothing) touches import resolves nothing", async () => {
    await seedCustomers();
    await importCsv(fx.store, "touches", csvFile("old.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(40))}`]), { now: daysBefore(39) });
    await sweepAt(fx.store, NOW);
    const mixed = csvFile("mixed.csv", ["customer_id,occurred_at", `C-1,${iso(daysBefore(1))}`, "C-404,2026-01-01"]);
    expect(await importCsv(fx.store, "touches", mixed, { now: NOW })).toMatchObject({ committed: false, resolvedNudges: 0 });
    expect((await nudges(fx.store)).filter((n) => n.customer === "C-1").map((n) => n.status)).toEqual(["open"]);
    expect(await importCsv(fx.store, "touches", mixed, { now: NOW, skipInvalid: true })).toMatchObject({ committed: true, inserted: 1, resolvedNudges: 1 });
  });
});
