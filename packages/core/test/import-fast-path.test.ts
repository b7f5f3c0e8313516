import { Calendar } from "@keepwarm/rules";
import { describe, expect, it } from "vitest";
import { parseIsoInstant } from "../src/dates";
import { seededRandom } from "../src/demo-data";
import { touchRow } from "../src/import/row-parsers";
import { fastInstant, fastTouch, type TouchColumns } from "../src/import/touch-fast-path";

/** Deterministic PRNG so a failure reproduces. */
const prng = seededRandom;
/** A zone far from UTC, so a bare date read as UTC midnight would differ. */
const LA = new Calendar("America/Los_Angeles");

const INSTANTS = [
  "2026-11-20T09:30:00Z",
  "2026-11-20T09:30:00.123Z",
  "2026-11-20T09:30:00.1Z",
  "2026-11-20T09:30:00z",
  "2026-11-20 09:30:00Z",
  "2026-11-20T09:30Z",
  "2026-11-20T09:30:00+02:00",
  "2026-11-20",
  " 2026-11-20T09:30:00Z ",
  "2024-02-29T00:00:00Z",
  "2026-02-29T00:00:00Z",
  "2000-02-29T12:00:00Z",
  "1900-02-29T12:00:00Z",
  "1900-01-01T00:00:00Z",
  "1899-12-31T23:59:59Z",
  "0099-06-01T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "2026-00-10T00:00:00Z",
  "2026-04-31T00:00:00Z",
  "2026-01-01T24:00:00Z",
  "2026-01-01T23:60:00Z",
  "2026-01-01T23:59:60Z",
  "2026-01-01T23:59:59.99xZ",
  "2026-1-01T00:00:00Z",
  "yesterday",
  "",
];
const CUSTOMERS = ["C-1", " C-1 ", "\u00a0C-1\u3000", "C-1\t", "C-0000042", "", "   ", "x".repeat(200), "x".repeat(201), ` ${"y".repeat(199)} `];
const KINDS = ["call", "email", "meeting", "visit", "chat", "other", "", "  ", "CALL", " Email ", "fax", "calls", "ca ll", "İ"];
const TEXTS = ["", " ", "left a voicemail", "  padded  ", 'said "hi", left', "line\nbreak", "é".repeat(4000), "é".repeat(4001), ` ${"n".repeat(3999)} `];
const LOGGERS = ["", "U0123ABCD", " U0123ABCD ", "\ufeffU0123ABCD", "U0123ABCD\u2028", "z".repeat(200), "z".repeat(201)];

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

describe("the touches fast path agrees with the zod schema", () => {
  it("fastTouch returns exactly zod's values whenever it returns anything, for every column layout", () => {
    const random = prng(42);
    const layouts: string[][] = [
      ["customer_id", "occurred_at", "kind", "note", "logged_by"],
      ["occurred_at", "customer_id"],
      ["logged_by", "note", "occurred_at", "customer_id"],
      ["customer_id", "kind", "occurred_at"],
      ["external_id", "customer_id", "occurred_at", "note"],
    ];
    const schema = touchRow(LA);
    let fast = 0;
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      const header = pick(random, layouts);
      const columns: TouchColumns = {
        customerId: header.indexOf("customer_id"),
        occurredAt: header.indexOf("occurred_at"),
        kind: header.indexOf("kind"),
        note: header.indexOf("note"),
        loggedBy: header.indexOf("logged_by"),
        externalId: header.indexOf("external_id"),
      };
      const pools: Record<string, readonly string[]> = {
        customer_id: CUSTOMERS,
        occurred_at: INSTANTS,
        kind: KINDS,
        note: TEXTS,
        logged_by: LOGGERS,
        external_id: LOGGERS,
      };
      const fields = header.map((name) => pick(random, pools[name] as string[]));
      const cells = Object.fromEntries(header.map((name, i) => [name, fields[i] as string]));
      const zod = schema.safeParse(cells);
      const mine = fastTouch(fields, columns, LA);
      if (zod.success) valid++;
      if (mine === undefined) continue;
      fast++;
      expect(zod.success, JSON.stringify(cells)).toBe(true);
      if (!zod.success) continue;
      expect(mine, JSON.stringify(cells)).toEqual({
        customerId: zod.data.customer_id,
        occurredAt: zod.data.occurred_at,
        kind: zod.data.kind ?? "other",
        note: zod.data.note ?? null,
        loggedBy: zod.data.logged_by ?? null,
        externalId: zod.data.external_id ?? null,
      });
    }
    // The fast path must cover every valid row here: the slow path is for errors.
    expect(fast).toBe(valid);
    expect(valid).toBeGreaterThan(2_000);
  });

  it("fastInstant equals parseIsoInstant on the listed shapes and on 50,000 mutated timestamps", () => {
    for (const text of INSTANTS) expect(fastInstant(text, LA), text).toBe(parseIsoInstant(text, LA));
    const random = prng(7);
    const alphabet = "0123456789-:TZz. +x";
    for (let n = 0; n < 50_000; n++) {
      const base = random() < 0.5 ? "2024-02-29T23:59:59Z" : "1999-12-31T00:00:00.999Z";
      const chars = [...base];
      const edits = 1 + Math.floor(random() * 2);
      for (let e = 0; e < edits; e++) chars[Math.floor(random() * chars.length)] = pick(random, [...alphabet]);
      const text = chars.join("");
      expect(fastInstant(text, LA), text).toBe(parseIsoInstant(text, LA));
    }
  });

  it("fastInstant equals parseIsoInstant on random valid instants of every year from 1900 to 9999", () => {
    const random = prng(11);
    const two = (n: number) => String(n).padStart(2, "0");
    for (let n = 0; n < 50_000; n++) {
      const year = n < 8100 ? 1900 + n : 1900 + Math.floor(random() * 8100);
      const month = 1 + Math.floor(random() * 12);
      const day = 1 + Math.floor(random() * 31);
      const ms = random() < 0.5 ? "" : `.${String(Math.floor(random() * 1000)).padStart(3, "0")}`;
      const text = `${year}-${two(month)}-${two(day)}T${two(Math.floor(random() * 24))}:${two(Math.floor(random() * 60))}:${two(Math.floor(random() * 60))}${ms}Z`;
      expect(fastInstant(text, LA), text).toBe(parseIsoInstant(text, LA));
    }
  });
});
