import { defaultRulesText } from "@keepwarm/rules";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { runInProcess as runCli } from "./in-process";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const RULES = ["no-contact-enterprise", "no-contact", "nps-drop", "frequent-buyer-no-loyalty"];

describe("keepwarm demo", () => {
  it("tells its story in one screen: summary first, a few messages, then the next three commands", async () => {
    const env = { KEEPWARM_DB: await freshDatabase(tmp, "demo.db") };
    const result = await runCli(["demo"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(50);
    expect(lines[0]).toMatch(/^keepwarm demo: 300 demo customers with \d+ touches/);
    expect(lines[1]).toMatch(/^rules v\d+: the shipped defaults \(no-contact-enterprise, no-contact, nps-drop, frequent-buyer-no-loyalty\)$/);
    expect(lines[2]).toMatch(/^sweep #\d+: \d+ customers evaluated, \d+ nudges, /);
    const perRule = lines.find((l) => l.startsWith("  per rule:")) ?? "";
    for (const rule of RULES) expect(perRule).toMatch(new RegExp(`${rule} \\d+`));
    expect(lines.find((l) => l.startsWith("  who gets what: "))).toMatch(/<@U0DEMO\w+> \d+/);
    expect(lines.filter((l) => l.startsWith("── Digest for ")).length).toBeLessThanOrEqual(2);
    expect(lines.slice(-4)).toEqual([
      "next, try:",
      expect.stringMatching(/^ {2}keepwarm touch C-\d{4} call today "checked in" --db \S+ {3}log a touch/),
      expect.stringMatching(/^ {2}keepwarm stats --db /),
      expect.stringMatching(/^ {2}keepwarm report --out report.html --db /),
    ]);
    // One noisy rule, flagged with its evidence, and its tuning suggestion; the enterprise rule is acted on and not flagged.
    expect(result.stdout).toMatch(/\nnoisy rule no-contact: \d+% of \d+ settled nudges were noise: \d+% dismissed \("already in touch by email" \d+/);
    expect(result.stdout).toMatch(
      /\n {2}suggestion: daysSinceLastTouch greaterThanInclusive \d+ instead of 30; backtest over 90 days: [\d.]+ → [\d.]+ nudges\/week/,
    );
    expect(result.stdout).not.toContain("noisy rule no-contact-enterprise");
    // The sweep ran on the shipped rules.
    expect(JSON.parse((await runCli(["rules", "export"], env)).stdout)).toEqual(JSON.parse(defaultRulesText()));
  });

  it("--verbose prints every message, with nudges from every default rule", async () => {
    const result = await runCli(["demo", "--verbose", "--reset"], { KEEPWARM_DB: await freshDatabase(tmp, "verbose.db") });
    expect(result.code).toBe(0);
    for (const rule of RULES) expect(result.stdout).toContain(`— ${rule}`);
    expect(result.stdout).toMatch(/Why: +Last touch (\(\w+\) )?\d+ days ago \(rule: ≥ \d+ days\); Segment /);
    expect(result.stdout).not.toContain("more in this digest");
  });
});
