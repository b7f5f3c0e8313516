import {
  attributeNamesUsed,
  type Calendar,
  type CustomerFactRow,
  compileRules,
  computeFacts,
  createReferenceEvaluator,
  type Facts,
  PRIORITIES,
  type Rule,
} from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import { hostname } from "node:os";
import { escalateOverdueNudges } from "./escalation";
import { UserError } from "./errors";
import { factRowChunks, scanFactRows } from "./facts-scan";
import { LazyMatch } from "./lazy-match";
import { type LeaseHolder, releaseLease, renewLease, tryAcquireLease } from "./lease";
import { type ActiveRuleSet, ensureActiveRuleSet } from "./rule-sets";

export interface Match {
  rule: Rule;
  customerId: number;
  customerExternalId: string;
  customerName: string;
  ownerSlackId: string | null;
  facts: Facts;
  explanation: string;
  message: string;
  heldOut: boolean;
  /** The customer's last touch when planned: only a newer touch resolves the nudge. */
  lastTouchAt: number | null;
}

export interface SweepOptions {
  calendar: Calendar;
  /** The instant facts are computed for; defaults to now. */
  now?: number;
  dryRun?: boolean;
  /** "reference" runs json-rules-engine itself, one run per customer (slow; for checking). */
  engine?: "compiled" | "reference";
  /** Evaluate this rule set instead of the active one (preview). */
  ruleSet?: ActiveRuleSet;
  /** How long to wait for another process's sweep to finish. */
  waitMs?: number;
  onProgress?: (evaluated: number) => void;
  /** Customers per chunk (SWEEP_CHUNK); tests make it small to cross chunk boundaries. */
  chunkSize?: number;
}

export interface PlannedNudge {
  ruleId: string;
  customerId: string;
  customerName: string;
  status: "open";
  heldOut: boolean;
  priority: string;
  explanation: string;
}

export interface SweepReport {
  runId: number;
  asOf: number;
  ruleSetVersion: number;
  dryRun: boolean;
  evaluated: number;
  matched: number;
  created: number;
  reopened: number;
  expired: number;
  heldOut: number;
  /** Nudges escalated by this sweep (open past their rule's escalateAfterDays). */
  escalated: number;
  nudges: PlannedNudge[];
}

export class SweepBusyError extends UserError {
  constructor(readonly holder: LeaseHolder) {
    super(`another sweep is running (pid ${holder.pid} on ${holder.host}); try again when it finishes`, "sweep_busy");
  }
}

const LEASE_TTL_MS = 5 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function acquireSweepLease(store: Store, waitMs: number): Promise<LeaseHolder> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const result = tryAcquireLease(store, "sweep", LEASE_TTL_MS);
    if (!("busy" in result)) return result;
    if (Date.now() >= deadline) throw new SweepBusyError(result.busy);
    await sleep(200);
  }
}

/** Evaluate every customer against one whole rule-set version. Pure read. */
export async function findMatches(
  store: Store,
  ruleSet: ActiveRuleSet,
  options: Pick<SweepOptions, "calendar" | "engine" | "onProgress"> & { now: number },
): Promise<{ evaluated: number; matches: Match[] }> {
  const rules = ruleSet.ruleFile.rules.filter((rule) => rule.enabled);
  const compiled = compileRules(rules);
  const attributeNames = attributeNamesUsed(rules);
  const reference = options.engine === "reference" ? createReferenceEvaluator(rules) : undefined;
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const matches: Match[] = [];
  let evaluated = 0;
  const pending: Array<{ row: Parameters<typeof computeFacts>[0]; facts: Facts; rule: Rule }> = [];
  const rows = reference === undefined ? scanFactRows(store, options.now) : [...scanFactRows(store, options.now)];
  for (const row of rows) {
    evaluated++;
    if (options.onProgress !== undefined && evaluated % 10_000 === 0) options.onProgress(evaluated);
    const facts = computeFacts(row, options.now, options.calendar, attributeNames);
    if (reference !== undefined) {
      for (const id of await reference(facts)) {
        const rule = byId.get(id);
        if (rule !== undefined) pending.push({ row, facts, rule });
      }
      continue;
    }
    for (const { rule, matches: predicate } of compiled) {
      if (predicate(facts)) pending.push({ row, facts, rule });
    }
  }
  for (const { row, facts, rule } of pending) matches.push(new LazyMatch(rule, row, facts));
  return { evaluated, matches };
}

interface LiveNudge {
  id: number;
  ruleId: string;
  customerId: number;
  status: "open" | "snoozed";
  snoozedUntil: number | null;
  delivered: number;
}

export interface Plan {
  create: Match[];
  reopen: LiveNudge[];
  expire: Array<LiveNudge & { reason: string }>;
}

/**
 * Decide what changes for a set of customers, from what matched and what is live for
 * them. The database's partial unique index still guards the creates: this is the
 * policy, that is the guarantee. `cooling` holds the `${ruleId}\u0000${customerId}`
 * keys still inside a cooldown.
 */
export function planNudges(
  matches: readonly Match[],
  live: readonly LiveNudge[],
  cooling: ReadonlySet<string>,
  ruleIds: ReadonlySet<string>,
  now: number,
): Plan {
  const liveByKey = new Map(live.map((n) => [`${n.ruleId}\u0000${n.customerId}`, n]));
  const plan: Plan = { create: [], reopen: [], expire: [] };
  const seen = new Set<string>();
  for (const match of matches) {
    const key = `${match.rule.id}\u0000${match.customerId}`;
    seen.add(key);
    const existing = liveByKey.get(key);
    if (existing !== undefined) {
      if (existing.status === "snoozed" && existing.snoozedUntil !== null && existing.snoozedUntil <= now) plan.reopen.push(existing);
      continue;
    }
    if (!cooling.has(key)) plan.create.push(match);
  }
  for (const nudge of live) {
    if (seen.has(`${nudge.ruleId}\u0000${nudge.customerId}`)) continue;
    plan.expire.push({ ...nudge, reason: ruleIds.has(nudge.ruleId) ? "conditions-cleared" : "rule-removed" });
  }
  return plan;
}

/** Customers per chunk: bounds the memory of a sweep, whatever the number of customers. */
export const SWEEP_CHUNK = 5_000;

/**
 * Deliveries a sweep creates wait in this outbox status until the sweep ends, so a
 * delivery pass running meanwhile (the bot, in its own process) sees a rep's nudges
 * all at once, in one digest and in priority order, as when a sweep was one
 * transaction. A sweep that dies leaves them held; the next sweep releases them.
 */
const HELD = "held";

function sweepStatements(store: Store) {
  const { sqlite } = store;
  return {
    live: sqlite.prepare(
      `SELECT id, rule_id AS ruleId, customer_id AS customerId, status, snoozed_until AS snoozedUntil, (delivered_at IS NOT NULL) AS delivered
       FROM nudges WHERE customer_id > ? AND customer_id <= ? AND status IN ('open','snoozed')`,
    ),
    cooling: sqlite
      .prepare("SELECT DISTINCT rule_id || char(0) || customer_id FROM nudges WHERE customer_id > ? AND customer_id <= ? AND cooldown_until > ?")
      .pluck(),
    insertNudge: sqlite.prepare(`INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, action, facts,
        held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, created_at, updated_at)
      VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO NOTHING`),
    enqueue: sqlite.prepare("INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?)"),
    reopen: sqlite.prepare("UPDATE nudges SET status = 'open', snoozed_until = NULL, updated_at = ? WHERE id = ? AND status = 'snoozed'"),
    expire: sqlite.prepare(
      "UPDATE nudges SET status = 'expired', closed_at = ?, close_reason = ?, updated_at = ? WHERE id = ? AND status IN ('open','snoozed')",
    ),
    release: sqlite.prepare(`UPDATE outbox SET status = 'pending' WHERE status = '${HELD}'`),
  };
}

/** Apply one chunk's plan; returns the matches actually created (a concurrent writer may have won a key). */
function applyPlan(statements: ReturnType<typeof sweepStatements>, plan: Plan, ruleSetVersion: number, runId: number, now: number): Match[] {
  const { insertNudge, enqueue, reopen, expire } = statements;
  const created: Match[] = [];
  for (const match of plan.create) {
    const nudge = match.rule.nudge;
    const heldOut = match.heldOut;
    const info = insertNudge.run(
      match.rule.id,
      ruleSetVersion,
      match.customerId,
      PRIORITIES[nudge.priority],
      match.explanation,
      match.message,
      nudge.action ?? null,
      match instanceof LazyMatch ? match.factsJson : JSON.stringify(match.facts),
      heldOut ? 1 : 0,
      nudge.resolveOnTouch ? 1 : 0,
      nudge.cooldownDays,
      nudge.destination,
      runId,
      match.lastTouchAt,
      now,
      now,
    );
    if (info.changes === 0) continue;
    created.push(match);
    // Held-out nudges are recorded for the experiment and never delivered.
    if (!heldOut) enqueue.run("deliver", Number(info.lastInsertRowid), HELD, now, now);
  }
  for (const nudge of plan.reopen) {
    if (reopen.run(now, nudge.id).changes === 1) enqueue.run("deliver", nudge.id, HELD, now, now);
  }
  for (const nudge of plan.expire) {
    if (expire.run(now, nudge.reason, now, nudge.id).changes === 1 && nudge.delivered) enqueue.run("update", nudge.id, "pending", now, now);
  }
  return created;
}

interface SweepTotals {
  evaluated: number;
  matched: number;
  created: Match[];
  reopened: number;
  expired: number;
}

/**
 * The sweep proper, a chunk of customers at a time in id order: scan their facts,
 * evaluate, then — in one write transaction per chunk — read their live nudges and
 * cooldowns, plan and apply. Memory is bounded by the chunk, not by the customers
 * or the live nudges; each chunk plans against the nudges as they are when it
 * commits. Live nudges of customers the scan no longer returns (churned) fall in a
 * chunk's id range and expire there.
 */
async function sweepChunks(
  store: Store,
  ruleSet: ActiveRuleSet,
  options: Pick<SweepOptions, "calendar" | "engine" | "onProgress" | "chunkSize"> & { now: number; dryRun: boolean; runId: number; renewLease: () => void },
): Promise<SweepTotals> {
  const { now, calendar } = options;
  const rules = ruleSet.ruleFile.rules.filter((rule) => rule.enabled);
  const ruleIds = new Set(rules.map((rule) => rule.id));
  const compiled = compileRules(rules);
  const attributeNames = attributeNamesUsed(rules);
  const reference = options.engine === "reference" ? createReferenceEvaluator(rules) : undefined;
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const statements = sweepStatements(store);
  const scan = factRowChunks(store, now);
  const totals: SweepTotals = { evaluated: 0, matched: 0, created: [], reopened: 0, expired: 0 };
  const chunkSize = options.chunkSize ?? SWEEP_CHUNK;
  let after = 0;
  let chunks = 0;
  for (;;) {
    const rows = scan(after, chunkSize);
    const last = rows.length < chunkSize ? Number.MAX_SAFE_INTEGER : (rows[rows.length - 1] as CustomerFactRow).id;
    const matches: Match[] = [];
    for (const row of rows) {
      totals.evaluated++;
      if (options.onProgress !== undefined && totals.evaluated % 10_000 === 0) options.onProgress(totals.evaluated);
      const facts = computeFacts(row, now, calendar, attributeNames);
      if (reference !== undefined) {
        for (const id of await reference(facts)) {
          const rule = byId.get(id);
          if (rule !== undefined) matches.push(new LazyMatch(rule, row, facts));
        }
        continue;
      }
      for (const { rule, matches: predicate } of compiled) if (predicate(facts)) matches.push(new LazyMatch(rule, row, facts));
    }
    totals.matched += matches.length;
    const planChunk = () => {
      const live = statements.live.all(after, last) as LiveNudge[];
      const cooling = new Set(statements.cooling.all(after, last, now) as string[]);
      return planNudges(matches, live, cooling, ruleIds, now);
    };
    if (options.dryRun) {
      const plan = planChunk();
      for (const match of plan.create) totals.created.push(match);
      totals.reopened += plan.reopen.length;
      totals.expired += plan.expire.length;
    } else {
      store.sqlite
        .transaction(() => {
          const plan = planChunk();
          for (const match of applyPlan(statements, plan, ruleSet.version, options.runId, now)) totals.created.push(match);
          totals.reopened += plan.reopen.length;
          totals.expired += plan.expire.length;
        })
        .immediate();
    }
    if (last === Number.MAX_SAFE_INTEGER) return totals;
    after = last;
    if (++chunks % 20 === 0) options.renewLease();
  }
}

/** Deliveries held by a sweep (this one, or one that died) go out. */
function releaseHeldDeliveries(store: Store): void {
  sweepStatements(store).release.run();
}

/**
 * One sweep: facts for every customer, one whole rule-set version, planned changes
 * applied in one transaction, the run recorded. Safe to run twice, concurrently
 * or after a crash: the lease serialises sweeps and the database refuses duplicates.
 */
export async function runSweep(store: Store, options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun ?? false;
  const lease = await acquireSweepLease(store, options.waitMs ?? 0);
  let runId = 0;
  try {
    // We hold the lease, so any run still marked running belongs to a dead process.
    store.sqlite.prepare("UPDATE sweep_runs SET status = 'abandoned', finished_at = ? WHERE status = 'running'").run(Date.now());
    const ruleSet = options.ruleSet ?? (await ensureActiveRuleSet(store));
    runId = Number(
      store.sqlite
        .prepare("INSERT INTO sweep_runs (started_at, status, dry_run, as_of, rule_set_version, host, pid) VALUES (?, 'running', ?, ?, ?, ?, ?)")
        .run(Date.now(), dryRun ? 1 : 0, now, ruleSet.version, hostname(), process.pid).lastInsertRowid,
    );
    if (!dryRun) releaseHeldDeliveries(store);
    const totals = await sweepChunks(store, ruleSet, { ...options, now, dryRun, runId, renewLease: () => renewLease(store, lease, LEASE_TTL_MS) });
    renewLease(store, lease, LEASE_TTL_MS);
    if (!dryRun) releaseHeldDeliveries(store);
    const created = totals.created;
    const escalated = dryRun ? [] : escalateOverdueNudges(store, ruleSet, { now, calendar: options.calendar });
    const report: SweepReport = {
      runId,
      asOf: now,
      ruleSetVersion: ruleSet.version,
      dryRun,
      evaluated: totals.evaluated,
      matched: totals.matched,
      created: created.length,
      reopened: totals.reopened,
      expired: totals.expired,
      heldOut: created.filter((m) => m.heldOut).length,
      escalated: escalated.length,
      nudges: created.map((m) => ({
        ruleId: m.rule.id,
        customerId: m.customerExternalId,
        customerName: m.customerName,
        status: "open",
        heldOut: m.heldOut,
        priority: m.rule.nudge.priority,
        explanation: m.explanation,
      })),
    };
    store.sqlite
      .prepare(
        "UPDATE sweep_runs SET status = 'ok', finished_at = ?, evaluated = ?, matched = ?, created = ?, reopened = ?, expired = ?, held_out = ? WHERE id = ?",
      )
      .run(Date.now(), report.evaluated, report.matched, report.created, report.reopened, report.expired, report.heldOut, runId);
    return report;
  } catch (error) {
    // Nudges of the chunks that committed are live: deliver them.
    if (!dryRun) releaseHeldDeliveries(store);
    if (runId !== 0) {
      store.sqlite.prepare("UPDATE sweep_runs SET status = 'error', finished_at = ?, error = ? WHERE id = ?").run(Date.now(), (error as Error).message, runId);
    }
    throw error;
  } finally {
    releaseLease(store, lease);
  }
}
