import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { parseEnv } from "@keepwarm/core";
import { openStore } from "@keepwarm/store";
import { freshDatabase, migratedDatabase } from "@keepwarm/store/testing";
import { FakeSlack, postSigned, runCli, slashCommandBody, spawnCli, tempDir, unusedPort } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/index";
import { NOW, REP, SECRET, seedCustomers } from "./harness";

let fake: FakeSlack;
let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  fake = await new FakeSlack({ refusedTokens: ["xoxb-refused", "xapp-refused"], socketUrl: "ws://127.0.0.1:9/never" }).start();
  tmp = tempDir("keepwarm-startup-");
});
afterEach(async () => {
  await fake.stop();
  tmp.cleanup();
});

type Health = { ok: boolean; slack: string };

/** The one line a user error prints: no stack, no second line. */
function expectOneLine(result: { code: number | null; signal: string | null; stderr: string }, variable: string): void {
  expect(result.signal).toBeNull();
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^keepwarm: error: /);
  expect(lines[0]).toContain(variable);
}

/** A running `keepwarm bot`, its stderr, /healthz, and how long it takes to stop on SIGTERM. */
async function spawnBot(env: Record<string, string>) {
  const port = await unusedPort();
  const child = spawnCli(["bot"], { KEEPWARM_DB: await freshDatabase(tmp), PORT: String(port), ...env });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  const health = async (): Promise<Health> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;
  return {
    child,
    stderr: () => stderr,
    health,
    /** /healthz, as soon as the process listens. */
    async firstHealth(): Promise<Health> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await health();
        } catch (error) {
          if (child.exitCode !== null) throw new Error(`keepwarm bot exited: ${stderr}`);
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    async sigterm(): Promise<{ code: number | null; ms: number }> {
      const at = Date.now();
      child.kill("SIGTERM");
      const code = await closed;
      return { code, ms: Date.now() - at };
    },
  };
}

describe("start-up that fails cleanly", () => {
  it("a refused bot token stops keepwarm bot and keepwarm start with one line naming SLACK_BOT_TOKEN, exit 1", async () => {
    for (const command of ["bot", "start"]) {
      const result = await runCli([command], {
        KEEPWARM_DB: await freshDatabase(tmp, `${command}.db`),
        SLACK_BOT_TOKEN: "xoxb-refused",
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: fake.apiUrl,
        PORT: "0",
      });
      expectOneLine(result, "SLACK_BOT_TOKEN");
      expect(result.stderr).toContain("invalid_auth");
    }
  });

  it("a refused app token in Socket Mode is one line naming SLACK_APP_TOKEN, exit 1, and the process is gone", async () => {
    const result = await runCli(
      ["bot"],
      { KEEPWARM_DB: await freshDatabase(tmp), SLACK_BOT_TOKEN: "xoxb-good", SLACK_APP_TOKEN: "xapp-refused", SLACK_API_URL: fake.apiUrl, PORT: "0" },
      { timeoutMs: 30_000 },
    );
    expectOneLine(result, "SLACK_APP_TOKEN");
    // The socket client was never started with it.
    expect(fake.callsOf("apps.connections.open")).toHaveLength(1);
  });

  it("a PORT in use is one line naming PORT, exit 1", async () => {
    const blocker: NetServer = createNetServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, () => resolve((blocker.address() as { port: number }).port)));
    try {
      const result = await runCli(["bot"], {
        KEEPWARM_DB: await freshDatabase(tmp),
        SLACK_BOT_TOKEN: "xoxb-good",
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: fake.apiUrl,
        PORT: String(port),
      });
      expectOneLine(result, `PORT ${port}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("with Slack hanging, /healthz answers at once (slack: connecting) and SIGTERM stops the bot promptly", async () => {
    fake.hang();
    const bot = await spawnBot({ SLACK_BOT_TOKEN: "xoxb-good", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl });
    const health = await bot.firstHealth();
    expect(health).toMatchObject({ ok: true, slack: "connecting" });
    // auth.test is still unanswered: /healthz did not wait for it.
    expect(fake.callsOf("auth.test")).toHaveLength(1);
    const stop = await bot.sigterm();
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(3_000);
    expect(bot.stderr()).toContain("SIGTERM: stopping");
  });

  it("with Slack unreachable, the bot listens, /healthz says why, and SIGTERM stops it promptly", async () => {
    const closed = await unusedPort();
    const bot = await spawnBot({ SLACK_BOT_TOKEN: "xoxb-good", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `http://127.0.0.1:${closed}/api/` });
    await bot.firstHealth();
    let health = await bot.health();
    for (let i = 0; i < 100 && health.slack === "connecting"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = await bot.health();
    }
    expect(health.ok).toBe(true);
    expect(health.slack).toMatch(/^error: auth\.test: ECONNREFUSED \(retrying\)$/);
    const stop = await bot.sigterm();
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(3_000);
  });

  it("keepwarm doctor asks auth.test: a refused token is FAIL, an accepted one names the workspace", async () => {
    const db = await freshDatabase(tmp);
    // doctor never creates a database: make the one it checks.
    expect((await runCli(["init"], { KEEPWARM_DB: db })).code).toBe(0);
    const refused = await runCli(["doctor"], { KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-refused", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^FAIL {2}slack token {2}SLACK_BOT_TOKEN refused by Slack \(invalid_auth\)$/m);
    const good = await runCli(["doctor"], { KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-good", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^ok {4}slack token {2}auth\.test ok: workspace T0TEST, bot user U0BOT$/m);
  });
});

describe("Slack's state, in process", () => {
  it("a Slack that hangs at start, then answers: requests are ignored meanwhile, then served; /healthz follows", async () => {
    const store = await openStore(await migratedDatabase(tmp));
    await seedCustomers(store, [{ id: "C-1", name: "Acme Corp" }]);
    const env = parseEnv({ KEEPWARM_DB: "unused", SLACK_BOT_TOKEN: "xoxb-good", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl });
    fake.hang("auth.test");
    const silent = { info: () => {}, warn: () => {}, error: () => {} };
    const bot = createApp({ store, env, clock: () => NOW, logger: silent, deliveryLoop: false, host: "127.0.0.1", slackCheckTimeoutMs: 300 });
    try {
      const started = Date.now();
      const port = await bot.start(0);
      expect(Date.now() - started).toBeLessThan(2_000);
      const url = `http://127.0.0.1:${port}`;
      const slack = async () => ((await (await fetch(`${url}/healthz`)).json()) as Health).slack;
      expect(await slack()).toBe("error: auth.test: no answer within 300 ms (retrying)");
      const touch = (id: string) =>
        postSigned(`${url}/slack/events`, slashCommandBody({ command: "/touch", text: "Acme Corp call", response_url: fake.responseUrl(id), trigger_id: id }), {
          secret: SECRET,
        });
      // Until Slack confirms the token, the workspace is unknown: a request is acked and changes nothing.
      expect((await touch("during")).status).toBe(200);
      fake.unhang();
      // The background re-check runs 2 s after the failed one.
      const deadline = Date.now() + 5_000;
      while ((await slack()) !== "ok" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await slack()).toBe("ok");
      expect((await touch("after")).status).toBe(200);
      await fake.waitFor(() => fake.responses.find((r) => r.id === "after"));
      const touches = await store.db.selectFrom("touchpoints").select("logged_by").execute();
      expect(touches).toEqual([{ logged_by: REP }]);
      expect(fake.responses.find((r) => r.id === "during")).toBeUndefined();
    } finally {
      await bot.stop();
      await store.close();
    }
  });
});
