import { FakeSlack } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError, seedQuietCustomers } from "./spine-fixtures";

/** `keepwarm outbox list|retry` through the real CLI, against a fake Slack that first refuses the token. */
let box: ReturnType<typeof cliSandbox>;
let fake: FakeSlack;
let slack: Record<string, string>;
beforeAll(async () => {
  box = cliSandbox();
  fake = await new FakeSlack().start();
  slack = { SLACK_BOT_TOKEN: "xoxb-outbox", SLACK_API_URL: fake.apiUrl, KEEPWARM_DIGEST_THRESHOLD: "10" };
  await box.withStore((store) => seedQuietCustomers(store, 2));
});
afterAll(async () => {
  await fake.stop();
  box.cleanup();
});

interface Listed {
  id: number;
  kind: string;
  status: string;
  attempts: number;
  customer: string;
  lastError: string | null;
}

const list = async (...args: string[]): Promise<Listed[]> => {
  const result = await box.cli(["outbox", "list", ...args, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Listed[];
};

describe("keepwarm outbox", () => {
  it("lists deliveries Slack refused, re-queues them once fixed, and they are then posted once each", async () => {
    fake.failNext("chat.postMessage", 2, { error: "not_in_channel" });
    const sweep = await box.cli(["sweep"], slack);
    expect(sweep.code, sweep.stderr).toBe(0);
    const failed = await list("--status", "failed");
    expect(failed).toHaveLength(2);
    expect(failed.every((item) => item.kind === "deliver" && item.lastError === "slack error not_in_channel")).toBe(true);
    const text = await box.cli(["outbox", "list", "--status", "failed"]);
    expect(text.stdout).toMatch(/^#\d+ {2}deliver {2}failed {2}nudge #\d+ Quiet Q \d .* slack error not_in_channel$/m);

    const retried = await box.cli(["outbox", "retry", "--all-failed"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain("re-queued 2 items");
    expect(await list("--status", "failed")).toHaveLength(0);
    expect((await list("--status", "pending")).map((item) => item.attempts)).toEqual([0, 0]);

    const again = await box.cli(["sweep"], slack);
    expect(again.code, again.stderr).toBe(0);
    expect(fake.allMessages()).toHaveLength(2);
    expect((await list()).filter((item) => item.kind === "deliver").map((item) => item.status)).toEqual(["done", "done"]);
  }, 240_000);

  it("retries one failed item by id, and refuses an id that is missing or did not fail, changing nothing", async () => {
    const done = (await list("--status", "done"))[0];
    expect(done).toBeDefined();
    expectUserError(await box.cli(["outbox", "retry", String(done?.id)]), /outbox item #\d+ is done, not failed: only failed items are retried$/);
    expectUserError(await box.cli(["outbox", "retry", "99999"]), /no outbox item #99999/);
    expectUserError(await box.cli(["outbox", "retry"]), /give outbox ids or --all-failed/);
    expectUserError(await box.cli(["outbox", "list", "--status", "lost"]), /--status "lost" is not an outbox status/);
    await box.withStore((store) =>
      store.db
        .updateTable("outbox")
        .set({ status: "failed", last_error: "slack error not_in_channel" })
        .where("id", "=", done?.id ?? 0)
        .execute(),
    );
    const one = await box.cli(["outbox", "retry", `#${done?.id}`]);
    expect(one.stdout).toContain("re-queued 1 item:");
    expect((await list("--status", "pending")).map((item) => item.id)).toEqual([done?.id]);
  }, 240_000);
});
