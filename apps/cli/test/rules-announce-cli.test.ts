import { defaultRulesText } from "@keepwarm/rules";
import { migratedDatabase } from "@keepwarm/store/testing";
import { FakeSlack, tempDir } from "@keepwarm/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runInProcess as runCli } from "./in-process";

const tmp = tempDir("keepwarm-rules-announce-");
let fake: FakeSlack;
let env: Record<string, string>;

function tighter(days: number): string {
  const file = JSON.parse(defaultRulesText()) as { rules: Array<{ id: string; conditions: { all: Array<{ fact: string; value: unknown }> } }> };
  const condition = file.rules.find((r) => r.id === "no-contact")?.conditions.all.find((c) => c.fact === "daysSinceLastTouch");
  if (condition === undefined) throw new Error("default rules changed: no-contact has no daysSinceLastTouch condition");
  condition.value = days;
  return JSON.stringify(file, null, 2);
}

beforeAll(async () => {
  fake = await new FakeSlack().start();
  env = {
    KEEPWARM_DB: await migratedDatabase(tmp, "k.db"),
    KEEPWARM_TZ: "UTC",
    SLACK_BOT_TOKEN: "xoxb-test",
    SLACK_API_URL: fake.apiUrl,
    KEEPWARM_ADMINS: "U0ADMIN,U0ADMIN2",
    KEEPWARM_FALLBACK_CHANNEL: "C0RULES",
  };
  const first = await runCli(["rules", "apply", tmp.file("default.json", defaultRulesText()), "--author", "ann"], env);
  expect(first.code, first.stderr).toBe(0);
});
afterAll(async () => {
  await fake.stop();
  tmp.cleanup();
});
beforeEach(() => {
  fake.calls.length = 0;
  fake.clearFailures();
});

const posts = () => fake.callsOf("chat.postMessage").map((c) => ({ channel: c.args.channel, text: String(c.args.text) }));

describe("rule changes from the CLI are announced in Slack", () => {
  it("rules apply prints the diff summary and announces it to every admin and the fallback channel", async () => {
    const file = tmp.file("tighter.json", tighter(21));
    const result = await runCli(["rules", "apply", file, "--author", "bob"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`applied ${file} as rules version 2\nchanges: 1 changed (no-contact: conditions)\n`);
    expect(posts().map((p) => p.channel)).toEqual(["U0ADMIN", "U0ADMIN2", "C0RULES"]);
    for (const post of posts()) expect(post.text).toBe(`:scroll: bob saved rules *v2* (was v1) from the CLI (${file}): 1 changed (no-contact: conditions).`);
  });

  it("rules rollback is announced with what it undoes", async () => {
    const result = await runCli(["rules", "rollback", "1", "--author", "carol"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("rolled back to v1: its rules are now active as version 3\n");
    expect(posts()).toHaveLength(3);
    expect(posts()[0]?.text).toBe(":scroll: carol saved rules *v3* (was v2) from the CLI (rollback to v1): 1 changed (no-contact: conditions).");
  });

  it("a file that changes nothing is not announced", async () => {
    const result = await runCli(["rules", "apply", tmp.file("same.json", defaultRulesText())], env);
    expect(result.stdout).toContain("nothing changed");
    expect(posts()).toHaveLength(0);
  });

  it("a recipient Slack refuses gets a warning; the change stays saved and the others are told", async () => {
    fake.failNext("chat.postMessage", 1, { error: "channel_not_found" });
    const result = await runCli(["rules", "apply", tmp.file("tighter14.json", tighter(14))], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("as rules version 4");
    expect(result.stderr).toBe("keepwarm: warning: could not announce the rule change to U0ADMIN: slack error channel_not_found\n");
    expect(posts().map((p) => p.channel)).toEqual(["U0ADMIN", "U0ADMIN2", "C0RULES"]);
  });

  it("without SLACK_BOT_TOKEN nothing is posted and the output is the same", async () => {
    const { SLACK_BOT_TOKEN: _token, ...noSlack } = env;
    const file = tmp.file("tighter10.json", tighter(10));
    const result = await runCli(["rules", "apply", file], noSlack);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`applied ${file} as rules version 5\nchanges: 1 changed (no-contact: conditions)\n`);
    expect(fake.calls).toHaveLength(0);
  });
});
