import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
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
  });
});
