/**
 * What webhooks cost the big writes (SQLite): a touches CSV import and a first sweep,
 * each run three ways on fresh copies of the same data, in one process:
 *   none      no webhook at all (the baseline: an install without webhooks)
 *   other     a webhook subscribed to nudge.escalated only (nothing to write)
 *   touches   a webhook subscribed to touch.created (import) / nudge.created (sweep):
 *             one event and one outbox item per row, written in the batches' transactions
 *
 *   node --import tsx bench/webhooks.ts [--rows 100000] [--customers 5000]
 *
 * Prints wall and CPU time per run and the ratio to the baseline of the same run.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { importCsv, runSweep } from "../packages/core/src/index";
import { Calendar } from "../packages/rules/src/index";
import { countWebhookEvents, insertWebhook, openStore, type Store, type WebhookEventType } from "../packages/store/src/index";
import { benchArgs, fmtInt, fmtS, intArg, table, tempDb } from "./lib";

const args = benchArgs({ rows: { type: "string" }, customers: { type: "string" } });
const rows = intArg(args.rows, 100_000, "--rows");
const customers = intArg(args.customers, 5000, "--customers");
const UTC = new Calendar("UTC");
const DAY = 86_400_000;
const now = Date.now();

const dir = tempDb("keepwarm-bench-webhooks-");
const customersCsv = join(dir.dir, "customers.csv");
const touchesCsv = join(dir.dir, "touches.csv");
const since = new Date(now - 400 * DAY).toISOString().slice(0, 10);
writeFileSync(
  customersCsv,
  `id,name,segment,owner_slack_id,since\n${Array.from({ length: customers }, (_, i) => `C${i},Customer ${i},smb,U0OWNER${i % 50},${since}`).join("\n")}\n`,
);
// Touches 100–399 days old: none answers a "no contact in 30 days" nudge, so the sweep still nudges everyone.
writeFileSync(
  touchesCsv,
  `customer_id,occurred_at,kind\n${Array.from({ length: rows }, (_, i) => `C${i % customers},${new Date(now - (100 + (i % 300)) * DAY - i * 1000).toISOString()},call`).join("\n")}\n`,
);

async function fresh(name: string, events: WebhookEventType[] | undefined): Promise<Store> {
  const store = await openStore(join(dir.dir, `${name}.db`));
  await importCsv(store, "customers", customersCsv, { now });
  if (events !== undefined) await insertWebhook(store.db, { url: "http://127.0.0.1:9/hook", events, secret: "whsec_bench", now });
  return store;
}

async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 };
}

const out: string[][] = [["write", "webhooks", "wall", "CPU", "CPU vs none", "events written"]];
for (const [write, subscribed] of [
  ["touches import", "touch.created"],
  ["first sweep", "nudge.created"],
] as const) {
  let base = 0;
  for (const [label, events] of [
    ["none", undefined],
    ["other", ["nudge.escalated"]],
    ["subscribed", [subscribed]],
  ] as const) {
    const store = await fresh(`${write.replace(" ", "-")}-${label}`, events === undefined ? undefined : [...events]);
    if (write === "first sweep") await importCsv(store, "touches", touchesCsv, { now });
    const t = await timed(() => (write === "touches import" ? importCsv(store, "touches", touchesCsv, { now }) : runSweep(store, { calendar: UTC, now })));
    const n = await countWebhookEvents(store.db);
    if (label === "none") base = t.cpu;
    out.push([write, label, fmtS(t.wall), fmtS(t.cpu), `${(t.cpu / base).toFixed(2)} ×`, fmtInt(n)]);
    await store.close();
  }
}
console.log(`${fmtInt(rows)} touches, ${fmtInt(customers)} customers (SQLite)`);
console.log(table(out));
dir.cleanup();
