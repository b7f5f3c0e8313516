import { DAY_MS } from "@keepwarm/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError } from "./spine-fixtures";

/** `keepwarm touch <customer> [kind] [date] [note…]`, the /touch grammar, through the real CLI. */
let box: ReturnType<typeof cliSandbox>;
beforeAll(async () => {
  box = cliSandbox();
  const csv = [
    "id,name,segment",
    "C-1,Acme Corp,enterprise",
    "C-2,Acme Industries,smb",
    "C-3,Call Center Inc,smb",
    "C-4,Søren & Co — Café,smb",
    "C-5,Globex,smb",
    "C-6,Initech,smb",
    'C-7,"O\'Brien ""Bob"" Ltd",smb',
  ].join("\n");
  const result = await box.cli(["import", "customers", box.file("customers.csv", csv)]);
  expect(result.code, result.stderr).toBe(0);
});
afterAll(() => box.cleanup());

interface TouchJson {
  touchId: number;
  customerId: string;
  kind: string;
  occurredAt: string;
  note: string | null;
}

const touch = async (...args: string[]): Promise<TouchJson> => {
  const result = await box.cli(["touch", ...args, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as TouchJson;
};
const touchCount = () =>
  box.withStore(async (store) =>
    Number(
      (
        await store.db
          .selectFrom("touchpoints")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
const todayUtc = () => new Date().toISOString().slice(0, 10);

describe("keepwarm touch: finding the customer", () => {
  it("finds a customer by id", async () => {
    expect(await touch("C-5", "call")).toMatchObject({ customerId: "C-5", kind: "call", note: null });
  });

  it("finds a customer by name in any case", async () => {
    expect(await touch("gLOBEX", "email")).toMatchObject({ customerId: "C-5", kind: "email" });
  });

  it("finds a multi-word name and keeps the kind, date and note after it", async () => {
    const result = await touch("Call", "Center", "Inc", "call", "yesterday", "renewal", "looks", "safe");
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    expect(result).toMatchObject({ customerId: "C-3", kind: "call", note: "renewal looks safe" });
    expect(result.occurredAt.slice(0, 10)).toBe(yesterday);
  });

  it("finds a UTF-8 name typed as one quoted argument", async () => {
    expect(await touch("Søren & Co — Café", "visit")).toMatchObject({ customerId: "C-4", kind: "visit" });
  });

  it("finds a name holding quotes, typed as one argument, and still reads the kind after it", async () => {
    expect(await touch('O\'Brien "Bob" Ltd', "email")).toMatchObject({ customerId: "C-7", kind: "email", note: null });
  });

  it("finds a customer by a unique prefix of its name", async () => {
    expect(await touch("Glo", "meeting")).toMatchObject({ customerId: "C-5", kind: "meeting" });
    expect(await touch("acme", "corp", "chat")).toMatchObject({ customerId: "C-1", kind: "chat" });
  });

  it("lists the candidates for an ambiguous prefix and logs nothing", async () => {
    const before = await touchCount();
    const result = await box.cli(["touch", "Acme", "call"]);
    expectUserError(result, /"Acme" matches several customers: Acme Corp \(C-1\), Acme Industries \(C-2\); use the id or the full name/);
    expect(await touchCount()).toBe(before);
  });

  it("suggests near names for an unknown customer and logs nothing", async () => {
    const before = await touchCount();
    const result = await box.cli(["touch", "Globx", "call"]);
    expectUserError(result, /no customer matches "Globx"; did you mean "Globex"\?/);
    expect(await touchCount()).toBe(before);
  });
});

describe("keepwarm touch: kind, date and note", () => {
  it("defaults to kind other, today, no note", async () => {
    const result = await touch("Initech");
    expect(result).toMatchObject({ customerId: "C-6", kind: "other", note: null });
    expect(result.occurredAt.slice(0, 10)).toBe(todayUtc());
  });

  it("takes an ISO date (midday of that day) and stores the note", async () => {
    const result = await touch("C-6", "visit", "2026-01-10", "brought", "the", "new", "pricing");
    expect(result).toMatchObject({ kind: "visit", occurredAt: "2026-01-10T12:00:00.000Z", note: "brought the new pricing" });
    const row = await box.withStore((store) =>
      store.db.selectFrom("touchpoints").select(["kind", "note", "source", "occurred_at"]).where("id", "=", result.touchId).executeTakeFirst(),
    );
    expect(row).toEqual({ kind: "visit", note: "brought the new pricing", source: "cli", occurred_at: Date.parse("2026-01-10T12:00:00Z") });
  });

  it("takes today's ISO date without putting the touch in the future", async () => {
    const result = await touch("C-6", "chat", todayUtc());
    expect(result.occurredAt.slice(0, 10)).toBe(todayUtc());
    expect(Date.parse(result.occurredAt)).toBeLessThanOrEqual(Date.now());
  });

  it("stores a note given as one quoted argument verbatim, its own quotes included", async () => {
    expect(await touch("C-6", "call", "today", 'she said "renew"  soon')).toMatchObject({ kind: "call", note: 'she said "renew"  soon' });
  });

  it("rejects a date in the future and logs nothing", async () => {
    const before = await touchCount();
    expectUserError(await box.cli(["touch", "C-6", "call", "2099-01-01"]), /2099-01-01 is in the future/);
    expect(await touchCount()).toBe(before);
  });

  it("rejects a date that does not exist and logs nothing", async () => {
    const before = await touchCount();
    expectUserError(await box.cli(["touch", "C-6", "call", "2026-02-30"]), /"2026-02-30" is not a date: use today, yesterday or YYYY-MM-DD/);
    expect(await touchCount()).toBe(before);
  });

  it("asks which customer when none is given", async () => {
    expectUserError(await box.cli(["touch"]), /which customer\?/);
  });
});
