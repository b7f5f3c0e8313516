import { TOKEN_RECHECK_MS } from "@keepwarm/api";
import { spawnCli } from "@keepwarm/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliSandbox, expectUserError } from "./spine-fixtures";

let box: ReturnType<typeof cliSandbox>;
let children: Array<ReturnType<typeof spawnCli>> = [];
beforeEach(() => {
  box = cliSandbox();
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  children = [];
  box.cleanup();
});

/** Start `keepwarm api` on a free port; resolves with its base URL once it listens. */
async function startApi(): Promise<string> {
  const child = spawnCli(["api", "--host", "127.0.0.1"], { KEEPWARM_DB: await box.db(), KEEPWARM_TZ: "UTC", PORT: "0" });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`keepwarm api did not start: ${stderr}`)), 30_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const port = /listening on port (\d+)/.exec(stderr)?.[1];
      if (port !== undefined) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
    child.on("exit", () => reject(new Error(`keepwarm api exited: ${stderr}`)));
  });
}

// Each CLI run starts a Node process: generous limits on a busy machine.
describe("keepwarm tokens and keepwarm api", { timeout: 240_000 }, () => {
  it("a token is printed once, listed without its secret, works against `keepwarm api` until revoked", async () => {
    const created = await box.cli(["tokens", "create", "--name", "zapier", "--scopes", "ingest,read"]);
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
    const listed = await box.cli(["tokens", "list", "--json"]);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: "zapier", scopes: ["ingest", "read"], revokedAt: null }]);
    expect(listed.stdout).not.toContain(secret);

    const base = await startApi();
    const ingest = (token: string) =>
      fetch(`${base}/api/v1/customers`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ items: [{ id: "C-1", name: "Acme" }] }),
      });
    const ok = await ingest(secret);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { counts: { created: number } }).counts.created).toBe(1);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);

    const revoked = await box.cli(["tokens", "revoke", "zapier"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    // Another process revoked it: the server reads a verified token again within TOKEN_RECHECK_MS.
    const deadline = Date.now() + TOKEN_RECHECK_MS + 1_000;
    let status = (await ingest(secret)).status;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await ingest(secret)).status;
    }
    expect(status).toBe(401);
    expectUserError(await box.cli(["tokens", "revoke", "zapier"]), /revoked already/);
  });

  it("bad token commands are one line, exit 1, and create nothing", async () => {
    expectUserError(await box.cli(["tokens", "create", "--name", "x", "--scopes", "ingest,admin"]), /unknown scope "admin"/);
    expectUserError(await box.cli(["tokens", "create", "--name", "bad name!", "--scopes", "read"]), /must be 1–64 letters/);
    expect((await box.cli(["tokens", "create", "--name", "crm", "--scopes", "read"])).code).toBe(0);
    expectUserError(await box.cli(["tokens", "create", "--name", "crm", "--scopes", "read"]), /exists already/);
    expect(JSON.parse((await box.cli(["tokens", "list", "--json"])).stdout)).toHaveLength(1);
  });
});
