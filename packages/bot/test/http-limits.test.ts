import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { Readable } from "node:stream";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { freshDatabase } from "@keepwarm/store/testing";
import { FakeSlack, slackSignature, spawnCli, tempDir, unusedPort } from "@keepwarm/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBodyWithin } from "@keepwarm/api";
import { SECRET, startHarness } from "./harness";

/** The real `keepwarm bot` process: what an attacker on the network would reach. */
let fake: FakeSlack;
let tmp: ReturnType<typeof tempDir>;
let child: ReturnType<typeof spawnCli>;
let base: string;
let stderr = "";

beforeAll(async () => {
  fake = await new FakeSlack().start();
  tmp = tempDir("keepwarm-limits-");
  const port = await unusedPort();
  base = `http://127.0.0.1:${port}`;
  child = spawnCli(["bot"], {
    KEEPWARM_DB: await freshDatabase(tmp),
    SLACK_BOT_TOKEN: "xoxb-1",
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    PORT: String(port),
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`keepwarm bot did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("close", resolve));
  await fake.stop();
  tmp.cleanup();
});

const status = (field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? Number.NaN) * 1024;
/** Resident memory of the bot process, in bytes (Linux). */
const rss = (): number => status("VmRSS");
/** Linux resets the peak-RSS mark (VmHWM) on writing 5 to clear_refs; without that, the peak since start counts. */
const resetPeakRss = (): void => writeFileSync(`/proc/${child.pid}/clear_refs`, "5");
const peakRss = (): number => status("VmHWM");
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const CHUNK = Buffer.alloc(64 * 1024, "a");

/**
 * POST `chunks` × 64 KiB with chunked transfer encoding (no Content-Length), signed as
 * Slack would sign the whole body; stops sending as soon as the server answers.
 */
function postChunked(chunks: number, signed: boolean): Promise<{ status: number; sent: number }> {
  return postChunkedTo(`${base}/slack/events`, chunks, signed);
}

function postChunkedTo(url: string, chunks: number, signed: boolean): Promise<{ status: number; sent: number }> {
  const timestamp = Math.floor(Date.now() / 1000);
  const hmac = createHmac("sha256", SECRET).update(`v0:${timestamp}:`);
  for (let i = 0; i < chunks; i++) hmac.update(CHUNK);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "transfer-encoding": "chunked",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signed ? `v0=${hmac.digest("hex")}` : "v0=0",
      },
    });
    req.on("response", (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sent });
      req.destroy();
    });
    // The server closing the connection after its answer is expected; an error before any answer is not.
    req.on("error", (error) => {
      if (!answered) reject(new Error(`${error.message} after ${sent} chunks of ${chunks} (signed: ${signed}); bot: ${stderr}`));
    });
    const write = () => {
      while (sent < chunks && !answered) {
        sent++;
        if (!req.write(CHUNK)) {
          req.once("drain", write);
          return;
        }
      }
      if (!answered) req.end();
    };
    write();
  });
}

async function healthy(): Promise<void> {
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
  expect(child.exitCode).toBeNull();
}

describe("POST /slack/events body limit, counted as the bytes arrive", () => {
  it("refuses a chunked 5 MB body with 413, signed or not", async () => {
    for (const signed of [true, false]) expect((await postChunked(80, signed)).status).toBe(413);
    await healthy();
  });

  it("stops reading at the limit: a 128 MiB body cannot even be sent whole before the 413, and the process's peak memory barely moves", async () => {
    resetPeakRss();
    const before = rss();
    const result = await postChunked(2048, false);
    const peak = peakRss();
    console.log(`bot rss ${mib(before)} before, peak ${mib(peak)} while refusing a 128 MiB chunked body (the client could send ${result.sent} of 2048 chunks)`);
    expect(result.status).toBe(413);
    // The client stalls once the socket buffers are full: a few MiB leave it, not 128.
    expect(result.sent).toBeLessThan(256);
    // At most 1 MB of the body is ever held (buffering it would add 128 MiB or more); what is measured
    // is the runtime's own growth (socket reads, garbage not yet collected), a few MiB on a busy machine.
    expect(peak - before).toBeLessThan(32 * 1024 * 1024);
    await healthy();
  });

  it("refuses a declared Content-Length over the limit before reading, and a signed 2 MB body sent in chunks", async () => {
    const body = "a".repeat(2_000_000);
    const timestamp = Math.floor(Date.now() / 1000);
    const declared = await fetch(`${base}/slack/events`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": slackSignature(SECRET, timestamp, body),
      },
      body,
    });
    expect(declared.status).toBe(413);
    expect((await postChunked(31, true)).status).toBe(413);
    // Just under the limit is read and judged on its merits (here: not a Slack payload).
    expect((await postChunked(15, true)).status).toBe(400);
    await healthy();
  });
});

describe("memory while refusing a large body (the same server, in this process, with garbage collected)", () => {
  it("grows by far less than the 5 MB body: at most 1 MB of it is ever held, and nothing after the 413", async () => {
    // A full GC before each reading, so the numbers are what is held, not garbage awaiting collection.
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const h = await startHarness({});
    try {
      const target = `${h.url}/slack/events`;
      for (const signed of [true, false]) expect((await postChunkedTo(target, 80, signed)).status).toBe(413);
      // Vitest runs other test files' leftovers (pools, timers) in this same worker, and they
      // allocate too; a body kept after its 413 would show in every round, so the quietest
      // of three rounds is the measure. Heap and array buffers, not all of `external`: that
      // also counts the sockets' native buffers, which Node releases lazily (rss stays flat).
      const rounds: Array<{ rss: number; held: number }> = [];
      for (let round = 0; round < 3; round++) {
        gc();
        const before = process.memoryUsage();
        for (const signed of [true, false]) expect((await postChunkedTo(target, 80, signed)).status).toBe(413);
        gc();
        const after = process.memoryUsage();
        rounds.push({ rss: after.rss - before.rss, held: after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers) });
      }
      const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
      console.log(
        `per round of two 5 MB bodies refused: rss ${rounds.map((r) => mib(r.rss)).join(", ")}; heap+array buffers ${rounds.map((r) => mib(r.held)).join(", ")}`,
      );
      expect(Math.min(...rounds.map((r) => r.rss))).toBeLessThan(2.5 * 1024 * 1024);
      expect(Math.min(...rounds.map((r) => r.held))).toBeLessThan(1024 * 1024);
    } finally {
      await h.close();
    }
  });
});

describe("readBodyWithin", () => {
  it("stops pulling from the stream once past the limit, holding nothing", async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced++;
        this.push(produced <= 100 ? CHUNK : null);
      },
    });
    expect(await readBodyWithin(source as unknown as IncomingMessage, 1_000_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    // 1 MB is 16 chunks of 64 KiB; the stream's own read-ahead adds at most a few.
    expect(produced).toBeLessThan(20);
    const small = new Readable({ read() {} });
    small.push("payload=");
    small.push("%7B%7D");
    small.push(null);
    expect(String(await readBodyWithin(small as unknown as IncomingMessage, 1_000_000))).toBe("payload=%7B%7D");
  });
});

describe("malformed payloads, correctly signed", () => {
  const signedPost = async (body: string, contentType: string) => {
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(`${base}/slack/events`, {
      method: "POST",
      headers: { "content-type": contentType, "x-slack-request-timestamp": String(timestamp), "x-slack-signature": slackSignature(SECRET, timestamp, body) },
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it("get a 4xx and never take the process down; /healthz keeps answering", async () => {
    const form = "application/x-www-form-urlencoded";
    const cases: Array<[string, string]> = [
      ["payload=null", form],
      ["payload=", form],
      ["payload=[]", form],
      ["payload={}", form],
      ["payload=%7Bnot%20json", form],
      ["payload=1", form],
      ['payload="text"', form],
      ["payload=null&payload=null", form],
      ["", form],
      ["user_id=U0REP", form],
      ["null", "application/json"],
      ["[]", "application/json"],
      ['"x"', "application/json"],
      ["{", "application/json"],
      ["{}", "application/json"],
      ["payload=null", "text/plain"],
    ];
    for (const [body, contentType] of cases) {
      const res = await signedPost(body, contentType);
      expect(res.status, `${contentType} ${body}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${contentType} ${body}`).toBeLessThan(500);
      await healthy();
    }
    expect(stderr).not.toContain("TypeError");
  });
});
