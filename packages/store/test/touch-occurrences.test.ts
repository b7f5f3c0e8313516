import { describe, expect, it } from "vitest";
import { type ImportedTouch, TouchOccurrences } from "../src/index";

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The definition: a row is the nth of its exact content among the rows before it (external ids not numbered). */
function expected(rows: readonly ImportedTouch[]): Array<number | undefined> {
  const seen = new Map<string, number>();
  return rows.map((row) => {
    if (row.externalId !== null) return undefined;
    const key = JSON.stringify([row.customerId, row.occurredAt, row.kind, row.note, row.loggedBy]);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n;
  });
}

describe("TouchOccurrences", () => {
  it("numbers 30,000 random rows as the nth of their exact content, across table growth and customers sharing a key", () => {
    const random = prng(5);
    const base = Date.parse("2026-01-01T00:00:00Z");
    const rows: ImportedTouch[] = [];
    for (let i = 0; i < 30_000; i++) {
      // Few instants and customers 1024 apart (same key), so repeats and key collisions are common.
      rows.push({
        customerId: 1 + Math.floor(random() * 4) * 1024 + Math.floor(random() * 3),
        occurredAt: base + Math.floor(random() * 3000) * 1000,
        kind: random() < 0.5 ? "call" : "email",
        note: random() < 0.7 ? null : "hi",
        loggedBy: random() < 0.9 ? null : "U1",
        externalId: random() < 0.05 ? `E${i}` : null,
      });
    }
    const occurrences = new TouchOccurrences();
    for (const row of rows) occurrences.number(row);
    expect(rows.map((row) => row.occurrence)).toEqual(expected(rows));
    expect(rows.some((row) => (row.occurrence ?? 0) > 2)).toBe(true);
  });

  it("starts counting afresh after clear", () => {
    const row = (): ImportedTouch => ({ customerId: 7, occurredAt: 1_700_000_000_000, kind: "call", note: null, loggedBy: null, externalId: null });
    const occurrences = new TouchOccurrences();
    const first = [row(), row()];
    for (const r of first) occurrences.number(r);
    occurrences.clear();
    const again = row();
    occurrences.number(again);
    expect([...first.map((r) => r.occurrence), again.occurrence]).toEqual([1, 2, 1]);
  });
});
