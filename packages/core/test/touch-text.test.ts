import { Calendar } from "@keepwarm/rules";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTouchDate, parseTouchText, parseTouchTokens, tokensFromArgs } from "../src/index";
import { addCustomer, freshIngestStore, type IngestFixture, NOW } from "./ingest-fixtures";

const UTC = new Calendar("UTC");
let fx: IngestFixture;
beforeAll(async () => {
  fx = await freshIngestStore();
  for (const [id, name] of [
    ["C-1", "Acme Corp"],
    ["C-2", "Acme Industries"],
    ["C-3", "Call Center Inc"],
  ]) {
    await addCustomer(fx.store, { id: id as string, name: name as string });
  }
});
afterAll(() => fx.close());

describe("parseTouchDate", () => {
  it("reads a past ISO date as midday of that day", () => {
    expect(parseTouchDate("2026-06-10", NOW, UTC)).toBe(Date.parse("2026-06-10T12:00:00Z"));
  });

  it("caps today's ISO date at now, so it is never in the future", () => {
    const morning = Date.parse("2026-06-15T08:00:00Z");
    expect(parseTouchDate("2026-06-15", morning, UTC)).toBe(morning);
  });

  it("keeps tomorrow's date in the future, so the grammar can reject it", async () => {
    expect(parseTouchDate("2026-06-16", NOW, UTC)).toBe(Date.parse("2026-06-16T12:00:00Z"));
    const parsed = await parseTouchText(fx.store, "C-1 call 2026-06-16", NOW, UTC);
    expect(parsed).toMatchObject({ ok: false, error: "future_date" });
  });

  it("reads yesterday in the keepwarm time zone", () => {
    const tokyo = new Calendar("Asia/Tokyo");
    // NOW is 2026-06-15 21:00 in Tokyo: yesterday there is June 14.
    expect(tokyo.isoDate(parseTouchDate("yesterday", NOW, tokyo) as number)).toBe("2026-06-14");
    expect(parseTouchDate("2026-02-30", NOW, UTC)).toBe("invalid");
    expect(parseTouchDate("renewal", NOW, UTC)).toBeUndefined();
  });
});

describe("parseTouchText", () => {
  it("prefers the longest exact name, so a name holding a kind word still parses", async () => {
    const parsed = await parseTouchText(fx.store, "call center inc call yesterday renewal looks safe", NOW, UTC);
    expect(parsed).toMatchObject({ ok: true, kind: "call", note: "renewal looks safe" });
    if (parsed.ok) {
      expect(parsed.customer.external_id).toBe("C-3");
      expect(parsed.occurredAt).toBe(Date.parse("2026-06-14T12:00:00Z"));
    }
  });

  it("lists every candidate of an ambiguous prefix and keeps the rest of the text", async () => {
    const parsed = await parseTouchText(fx.store, "Acme email sent the deck", NOW, UTC);
    expect(parsed).toMatchObject({ ok: false, error: "ambiguous", query: "Acme", rest: "email sent the deck" });
    if (!parsed.ok && parsed.error === "ambiguous") expect(parsed.candidates.map((c) => c.external_id)).toEqual(["C-1", "C-2"]);
  });

  it("keeps a Slack note as typed, quotes included", async () => {
    expect(await parseTouchText(fx.store, 'C-1 call today said "hi" to them', NOW, UTC)).toMatchObject({ ok: true, note: 'said "hi" to them' });
  });

  it("takes shell arguments as they are: a spaced argument is one phrase and a note gains no quotes", async () => {
    const parsed = await parseTouchTokens(fx.store, tokensFromArgs(["Call Center Inc", "meeting", "2026-06-01", 'went "well"']), NOW, UTC);
    expect(parsed).toMatchObject({ ok: true, kind: "meeting", note: 'went "well"', occurredAt: Date.parse("2026-06-01T12:00:00Z") });
    if (parsed.ok) expect(parsed.customer.external_id).toBe("C-3");
  });

  it("keeps a note's line breaks, and its words' single spacing on each line", async () => {
    const parsed = await parseTouchText(fx.store, "C-1 call  first line\nsecond   line\n\n third", NOW, UTC);
    expect(parsed).toMatchObject({ ok: true, note: "first line\nsecond line\n\nthird" });
    const ambiguous = await parseTouchText(fx.store, "Acme call a\nb", NOW, UTC);
    expect(ambiguous).toMatchObject({ ok: false, error: "ambiguous", rest: "call a\nb" });
  });

  it("defaults to kind other at now, and refuses an overlong text", async () => {
    expect(await parseTouchText(fx.store, "C-1", NOW, UTC)).toMatchObject({ ok: true, kind: "other", kindGiven: false, occurredAt: NOW, note: null });
    expect(await parseTouchText(fx.store, `C-1 ${"x".repeat(3000)}`, NOW, UTC)).toMatchObject({ ok: false, error: "too_long" });
  });
});
