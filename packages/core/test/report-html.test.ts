import { afterEach, describe, expect, it } from "vitest";
import { buildReportData, buildReportHtml, renderReportHtml, weekEnds } from "../src/index";
import { ago, customer, freshStatsStore, NOW, PERIOD, seedBook } from "./stats-fixture";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** Every URL-ish reference a browser would fetch; the SVG namespace is an identifier, never fetched. */
function networkReferences(html: string): string[] {
  return (html.match(/https?:\/\/[^"'\s)]*/g) ?? []).filter((url) => url !== "http://www.w3.org/2000/svg");
}

describe("the HTML report", () => {
  it("shows the fixture's figures: retention, NPS now and by month, quiet customers, funnel, holdout", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    await seedBook(fixture.store);
    const html = await buildReportHtml(fixture.store, PERIOD, NOW);
    // Figures from stats-kpis.test.ts's hand computation.
    expect(html).toContain("75.0%"); // retention, (4 at the end − 1 new) ÷ 4
    expect(html).toContain("retention ((4 at end − 1 new) ÷ 4 at start)");
    expect(html).toContain(">+33.3<"); // NPS now
    expect(html).toContain("<td>2026-06</td><td>-33.3</td><td>3</td>"); // NPS by month table
    expect(html).toContain("<td>2026-05</td><td>0</td><td>2</td>");
    expect(html).toContain("quiet customers (no touch ≥ 30 days) of 4");
    expect(html).toContain("loyalty enrollment of 2 frequent buyers");
    expect(html).toContain("median time from nudge to touch: 4 days · 1 held out (not delivered)");
    expect(html).toContain("r1 — 3 nudged, 1 held out");
    expect(html).toContain("not enough data yet: needs 30 in each group, has 3 nudged and 0 held out");
    // Noise: r1 has 3 settled nudges, F's dismissal the one noisy (33%); r2's one settled nudge expired untouched.
    expect(html).toContain("<tr><td>r1</td><td>3</td><td>33%</td><td>33%</td><td>0%</td><td>0%</td><td>0%</td><td>0%</td><td>—</td></tr>");
    expect(html).toContain("<tr><td>r2</td><td>1</td><td>100%</td>");
    // Six inline SVG charts: NPS by month, quiet over time, days since touch, a funnel per rule (2), the holdout.
    expect(html.match(/<svg /g)?.length).toBe(6);
  });

  it("is self-contained: no scripts, stylesheets, images, fonts or URLs to fetch", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    await seedBook(fixture.store);
    const html = await buildReportHtml(fixture.store, PERIOD, NOW);
    expect(networkReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
  });

  it("escapes data it shows, so a customer's segment cannot inject markup", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    await customer(fixture.store, { id: "x", segment: '<script>alert("x")</script>', since: ago(200) });
    const html = await buildReportHtml(fixture.store, PERIOD, NOW);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("plots quiet customers at each week's end, replaying touch history", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    await seedBook(fixture.store);
    const data = await buildReportData(fixture.store, PERIOD, NOW);
    // 90 days → 13 week ends, the last one NOW.
    expect(weekEnds(PERIOD)).toHaveLength(13);
    const last = data.quietWeekly.at(-1);
    expect(last).toEqual({ label: "2026-06-30", quiet: 2, customers: 4 });
    // Four weeks earlier (06-02), only touches up to then count. Active then:
    // A (first touch is 06-03: counts from its start 400 days ago → quiet), B (05-11, 22 days), D (started 05-31, 2 days),
    // E (05-16, 17 days), F (touched 06-20 later; since 100 days ago → 72 days → quiet) → quiet A, F = 2 of 5.
    expect(data.quietWeekly.find((q) => q.label === "2026-06-02")).toEqual({ label: "2026-06-02", quiet: 2, customers: 5 });
  });

  it("renders an empty store without failing, saying there is no data", async () => {
    const fixture = await freshStatsStore();
    close = fixture.close;
    const html = renderReportHtml(await buildReportData(fixture.store, PERIOD, NOW));
    expect(html).toContain("No nudges were created in this period.");
    expect(html).toContain("No rule has a holdout group yet.");
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
  });
});
