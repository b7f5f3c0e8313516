/**
 * HTTP API ingest benchmark (SQLite): the same touches posted to POST /api/v1/touches in
 * batches of 1,000, and as single-event requests (8 clients at once), beside the CSV
 * import of the same rows into a fresh database (the baseline, same run).
 *
 *   node --import tsx bench/api.ts [--touches 100000] [--customers 2000] [--singles 2000]
 *
 * The targets (≥ 20,000 touches/s in batches; 500 single requests/s with p99
 * ≤ 50 ms) are what to compare against; every event must be stored once.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createApiHandler, createApiToken } from "../packages/api/src/index";
import { importCsv } from "../packages/core/src/import/import-csv";
import { Calendar } from "../packages/rules/src/index";
import { countTouches, DAY_MS, insertCustomers, openStore, type Store } from "../packages/store/src/index";
import { benchArgs, fmtInt, intArg, machineLine, table, tempDb } from "./lib";

const args = benchArgs({ touches: { type: "string" }, customers: { type: "string" }, singles: { type: "string" } });
const TOUCHES = intArg(args.touches, 100_000, "--touches");
const CUSTOMERS = intArg(args.customers, 2_000, "--customers");
const SINGLES = intArg(args.singles, 2_000, "--singles");
const NOW = Date.now();

const touches = Array.from({ length: TOUCHES + SINGLES }, (_, i) => ({
  customer_id: `C-${i % CUSTOMERS}`,
  occurred_at: new Date(NOW - (1 + (i % 300)) * DAY_MS - i * 1000).toISOString(),
  kind: ["call", "email", "meeting"][i % 3] as string,
  note: `touch ${i}`,
}));

async function freshStore(dir: string, name: string): Promise<Store> {
  const store = await openStore(join(dir, name));
  const created = NOW - 1000 * DAY_MS;
  await insertCustomers(
    store.db,
    Array.from({ length: CUSTOMERS }, (_, i) => ({
      external_id: `C-${i}`,
      name: `Customer ${i}`,
      loyalty_member: 0,
      attributes: "{}",
      created_at: created,
      updated_at: created,
    })),
  );
  return store;
}

/** Every touch stored (all are in the past, by any owner). */
const countStored = (store: Store) => countTouches(store.db, { from: 0, until: NOW, ownerSlackId: null });

const tmp = tempDb("keepwarm-bench-api-");
try {
  // Baseline: the CSV import of the batched rows.
  const csvStore = await freshStore(tmp.dir, "csv.db");
  const file = join(tmp.dir, "touches.csv");
  writeFileSync(
    file,
    ["customer_id,occurred_at,kind,note", ...touches.slice(0, TOUCHES).map((t) => `${t.customer_id},${t.occurred_at},${t.kind},${t.note}`)].join("\n"),
  );
  let started = performance.now();
  await importCsv(csvStore, "touches", file, { now: NOW });
  const csvMs = performance.now() - started;
  await csvStore.close();

  const store = await freshStore(tmp.dir, "api.db");
  const { secret } = await createApiToken(store, "bench", ["ingest"]);
  const server = createServer(createApiHandler({ store, calendar: new Calendar("UTC"), rateLimit: 1_000_000 }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/touches`;
  const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
  let errors = 0;
  const post = async (items: unknown[]) => {
    const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ items }) });
    if (response.status !== 200) errors++;
    await response.arrayBuffer();
  };

  started = performance.now();
  for (let i = 0; i < TOUCHES; i += 1000) await post(touches.slice(i, i + 1000));
  const batchMs = performance.now() - started;

  const latencies: number[] = [];
  let next = TOUCHES;
  started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < TOUCHES + SINGLES) {
        const item = touches[next++];
        const at = performance.now();
        await post([item]);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const singleMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number).toFixed(1);
  const stored = await countStored(store);
  server.close();
  await store.close();

  console.log(machineLine());
  console.log(
    table([
      ["phase", "events", "events/s", "p50 ms", "p99 ms"],
      ["CSV import (baseline)", fmtInt(TOUCHES), fmtInt((TOUCHES / csvMs) * 1000), "", ""],
      ["API, batches of 1,000", fmtInt(TOUCHES), fmtInt((TOUCHES / batchMs) * 1000), "", ""],
      ["API, single events, 8 clients", fmtInt(SINGLES), fmtInt((SINGLES / singleMs) * 1000), pct(0.5), pct(0.99)],
    ]),
  );
  console.log(
    `errors: ${errors}; stored ${fmtInt(stored)} of ${fmtInt(TOUCHES + SINGLES)} touches${stored === TOUCHES + SINGLES ? " (each once)" : " (MISMATCH)"}`,
  );
} finally {
  tmp.cleanup();
}
