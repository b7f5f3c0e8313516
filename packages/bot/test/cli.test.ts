import { runSweep } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { DAY_MS, openStore } from "@keepwarm/store";
import { freshDatabase } from "@keepwarm/store/testing";
import { FakeSlack, runCli, spawnCli, tempDir, unusedPort } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seedCustomers } from "./harness";

let fake: FakeSlack;
let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  fake = await new FakeSlack().start();
  tmp = tempDir("keepwarm-bot-cli-");
});
afterEach(async () => {
  await fake.stop();
  tmp.cleanup();
});

async function seededDb(): Promise<string> {
  const path = await freshDatabase(tmp, "k.db");
  const store = await openStore(path);
  await seedCustomers(
    store,
    [
      { id: "C-1", name: "Acme Corp" },
      { id: "C-2", name: "Globex", owner: "U0B" },
    ],
    Date.now(),
  );
  await store.close();
  return path;
}

async function waitForHealth(port: string): Promise<{ ok: boolean }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return (await res.json()) as { ok: boolean };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("keepwarm bot / start / sweep with Slack", () => {
  it("keepwarm bot without a token or signing secret stops with one clear line", async () => {
    const db = await freshDatabase(tmp, "a.db");
    const noToken = await runCli(["bot"], { KEEPWARM_DB: db });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr.trim().split("\n")).toHaveLength(1);
    expect(noToken.stderr).toContain("SLACK_BOT_TOKEN is not set");
    const noSecret = await runCli(["bot"], { KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-1", SLACK_API_URL: fake.apiUrl });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain("SLACK_SIGNING_SECRET is not set");
  });

  it("keepwarm bot serves /healthz and stops cleanly on SIGTERM", async () => {
    const port = String(await unusedPort());
    const child = spawnCli(["bot"], {
      KEEPWARM_DB: await seededDb(),
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "s",
      SLACK_API_URL: fake.apiUrl,
      PORT: port,
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      expect((await waitForHealth(port)).ok).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stderr).toContain("SIGTERM: stopping");
  });

  it("keepwarm start sweeps and the bot delivers to Slack in the same process", async () => {
    const port = String(await unusedPort());
    const child = spawnCli(["start", "--run-now"], {
      KEEPWARM_DB: await seededDb(),
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "s",
      SLACK_API_URL: fake.apiUrl,
      PORT: port,
    });
    try {
      await waitForHealth(port);
      await fake.waitFor(() => fake.allMessages().length === 2, 20_000);
    } finally {
      child.kill("SIGINT");
    }
    expect(await new Promise((resolve) => child.on("close", resolve))).toBe(0);
    expect(fake.callsOf("chat.postMessage")).toHaveLength(2);
  });

  it("keepwarm start escalates an overdue nudge to the rep's manager and holds the rep's daily nudge budget", async () => {
    const path = await freshDatabase(tmp, "budget.db");
    const store = await openStore(path);
    const now = Date.now();
    // An enterprise nudge delivered 6 days ago and still open: its rule escalates after 5.
    await seedCustomers(store, [{ id: "C-E", name: "Enterprise Co", segment: "enterprise" }], now);
    await runSweep(store, { calendar: new Calendar("UTC"), now: now - 6 * DAY_MS });
    await store.db
      .updateTable("nudges")
      .set({ delivered_at: now - 6 * DAY_MS, slack_channel: "D0REP", slack_ts: "1.000001" })
      .execute();
    await store.db
      .updateTable("outbox")
      .set({ status: "done", done_at: now - 6 * DAY_MS })
      .execute();
    await seedCustomers(
      store,
      ["C-1", "C-2", "C-3"].map((id) => ({ id, name: `Quiet ${id}` })),
      now,
    );
    await store.close();

    const port = String(await unusedPort());
    const child = spawnCli(["start", "--run-now"], {
      KEEPWARM_DB: path,
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "s",
      SLACK_API_URL: fake.apiUrl,
      PORT: port,
      KEEPWARM_MAX_NUDGES_PER_DAY: "2",
      KEEPWARM_MANAGERS: "U0REP:U0BOSS",
    });
    try {
      await waitForHealth(port);
      await fake.waitFor(() => fake.messages.get("D0BOSS")?.length === 1 && fake.messages.get("D0REP")?.length === 2, 20_000);
    } finally {
      child.kill("SIGINT");
    }
    expect(await new Promise((resolve) => child.on("close", resolve))).toBe(0);
    expect(fake.messages.get("D0BOSS")?.[0]?.text).toContain("*Enterprise Co* (C-E): nudge #1 is still open");
    expect(fake.messages.get("D0REP")).toHaveLength(2);
    const after = await openStore(path);
    const waiting = await after.db.selectFrom("outbox").select(["kind", "status", "last_error as note"]).where("status", "!=", "done").execute();
    await after.close();
    expect(waiting).toEqual([{ kind: "deliver", status: "pending", note: expect.stringContaining("nudge budget: 2 per rep and day reached") }]);
  });

  it("keepwarm sweep delivers once through Slack when SLACK_BOT_TOKEN is set, and keeps console delivery without it", async () => {
    const db = await seededDb();
    const slack = await runCli(["sweep"], { KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-1", SLACK_API_URL: fake.apiUrl });
    expect(slack.code).toBe(0);
    expect(slack.stdout).toContain("slack: 2 delivered");
    expect(fake.allMessages()).toHaveLength(2);
    const again = await runCli(["sweep"], { KEEPWARM_DB: db, SLACK_BOT_TOKEN: "xoxb-1", SLACK_API_URL: fake.apiUrl });
    expect(again.stdout, again.stderr).toContain("slack: 0 delivered");
    expect(fake.allMessages()).toHaveLength(2);

    const consoleDb = await freshDatabase(tmp, "console.db");
    const store = await openStore(consoleDb);
    await seedCustomers(store, [{ id: "C-1", name: "Acme Corp" }], Date.now());
    await store.close();
    const plain = await runCli(["sweep"], { KEEPWARM_DB: consoleDb });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("Acme Corp");
    expect(plain.stdout).toContain("Nudge for <@U0REP>");
  });
});
