import { existsSync, readFileSync } from "node:fs";
import { openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { runInProcess as runCli } from "./in-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBook } from "../../../packages/core/test/stats-fixture";

const tmp = tempDir();
let db: string;

beforeAll(async () => {
  db = await freshDatabase(tmp, "report.db");
  const store = await openStore(db);
  await seedBook(store);
  await store.close();
});
afterAll(() => tmp.cleanup());

describe("keepwarm report", () => {
  it("writes a self-contained HTML page with the fixture's figures and SVG charts", async () => {
    const out = tmp.file("report.html");
    const result = await runCli(["report", "--out", out, "--since", "2026-04-01T12:00:00Z", "--until", "2026-06-30T12:00:00Z"], { KEEPWARM_DB: db });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^wrote .*report\.html \(\d+ KB\)/);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("75.0%");
    expect(html).toContain(">+33.3<");
    expect(html).toContain("<svg ");
    expect((html.match(/https?:\/\/[^"'\s)]*/g) ?? []).filter((u) => u !== "http://www.w3.org/2000/svg")).toEqual([]);
  });

  it("covers the same default period as keepwarm stats: the last 90 calendar days in KEEPWARM_TZ, today included", async () => {
    const env = { KEEPWARM_DB: db, KEEPWARM_TZ: "Pacific/Kiritimati" };
    const out = tmp.file("default.html");
    expect((await runCli(["report", "--out", out], env)).code).toBe(0);
    const stats = await runCli(["stats", "--json"], env);
    expect(stats.code).toBe(0);
    const { from, to, days } = JSON.parse(stats.stdout) as { from: string; to: string; days: number };
    expect(days).toBe(90);
    expect(readFileSync(out, "utf8")).toContain(`${from} → ${to} (90 days)`);
    // --calibrate is accepted with the same period (the chart itself: packages/core/test/health-calibration.test.ts).
    const calibrated = await runCli(["report", "--out", tmp.file("calibrated.html"), "--calibrate"], env);
    expect([calibrated.code, calibrated.stderr]).toEqual([0, ""]);
  });

  it("needs --out, and says so in one line without writing anything", async () => {
    const result = await runCli(["report"], { KEEPWARM_DB: db });
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe("keepwarm: error: keepwarm report: missing --out (see keepwarm report --help)");
  });

  it("reports an unwritable path as a user error", async () => {
    const out = `${tmp.dir}/no-such-folder/report.html`;
    const result = await runCli(["report", "--out", out], { KEEPWARM_DB: db });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`keepwarm: error: cannot write ${out}: ENOENT\n`);
    expect(existsSync(out)).toBe(false);
  });
});
