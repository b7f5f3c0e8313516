import { freshDatabase } from "@keepwarm/store/testing";
import { runCli, tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("keepwarm demo", () => {
  it("builds demo data and prints nudges from every default rule", async () => {
    const result = await runCli(["demo"], { KEEPWARM_DB: await freshDatabase(tmp, "demo.db") });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const rule of ["no-contact-enterprise", "no-contact", "nps-drop", "frequent-buyer-no-loyalty"]) expect(result.stdout).toContain(`— ${rule}`);
    expect(result.stdout).toMatch(/Why: +Last touch (\(\w+\) )?\d+ days ago \(rule: ≥ \d+ days\); Segment /);
    // One noisy rule, flagged with its evidence, and its tuning suggestion; the enterprise rule is acted on and not flagged.
    expect(result.stdout).toMatch(/\nnoisy rule no-contact: \d+% of \d+ settled nudges were noise: \d+% dismissed \("already in touch by email" \d+/);
    expect(result.stdout).toMatch(
      /\n {2}suggestion: daysSinceLastTouch greaterThanInclusive \d+ instead of 30; backtest over 90 days: [\d.]+ → [\d.]+ nudges\/week/,
    );
    expect(result.stdout).not.toContain("noisy rule no-contact-enterprise");
  });
});
