import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError } from "./spine-fixtures";

/** `keepwarm prefs show|set` through the real CLI on a real database. */
let box: ReturnType<typeof cliSandbox>;
beforeAll(() => {
  box = cliSandbox();
});
afterAll(() => box.cleanup());

const env = { KEEPWARM_MAX_NUDGES_PER_DAY: "8" };

describe("keepwarm prefs", () => {
  it("sets a rep's preferences with the form's checks and shows them as JSON, defaults for a rep who set none", async () => {
    const set = await box.cli(
      ["prefs", "set", "--user", "U0ANA", "--quiet", "22-7", "--quiet-days", "sat,sun", "--cap", "3", "--rule", "no-contact=digest", "--by", "ops"],
      env,
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("U0ANA: quiet 22:00–07:00 · quiet on Sat, Sun · cap 3/day");

    const show = await box.cli(["prefs", "show", "--user", "U0ANA,U0BEN", "--json"], env);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual([
      {
        slackId: "U0ANA",
        ruleModes: { "no-contact": "digest" },
        quietHours: { start: 22, end: 7 },
        quietDays: ["Sat", "Sun"],
        dailyCap: 3,
        effectiveCap: 3,
        digestHour: 9,
        timeZone: null,
        updatedAt: expect.any(String),
        updatedBy: "ops",
      },
      {
        slackId: "U0BEN",
        ruleModes: {},
        quietHours: null,
        quietDays: [],
        dailyCap: null,
        effectiveCap: 8,
        digestHour: 9,
        timeZone: null,
        updatedAt: null,
        updatedBy: null,
      },
    ]);
    // Without --user: the reps who set any.
    const all = await box.cli(["prefs", "show"], env);
    expect(all.stdout.trim().split("\n")).toHaveLength(1);
    expect(all.stdout).toMatch(/^U0ANA: /);
  });

  it("refuses what the App Home would refuse, with one line naming the field, and changes nothing", async () => {
    expectUserError(
      await box.cli(["prefs", "set", "--user", "U0ANA", "--cap", "9"], env),
      /daily_cap: must be a whole number from 0 to the team's 8; nothing saved/,
    );
    expectUserError(await box.cli(["prefs", "set", "--user", "U0ANA", "--quiet", "7-7"], env), /quiet_end: must differ from the start/);
    expectUserError(await box.cli(["prefs", "set", "--user", "U0ANA", "--rule", "no-contact=off"], env), /rule:no-contact: .* cannot be turned off/);
    expectUserError(await box.cli(["prefs", "set", "--user", "U0ANA", "--quiet", "25-7"], env), /quiet_start: must be a whole hour 0–23/);
    expectUserError(await box.cli(["prefs", "show", "--user", "ana"], env), /--user: "ana" is not a Slack user id/);
    const show = await box.cli(["prefs", "show", "--user", "U0ANA", "--json"], env);
    expect(JSON.parse(show.stdout)[0]).toMatchObject({ dailyCap: 3, quietHours: { start: 22, end: 7 }, ruleModes: { "no-contact": "digest" } });
  });
});
