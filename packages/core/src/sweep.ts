import {
  attributeNamesUsed,
  Calendar,
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
import { scanFactRows } from "./facts-scan";
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
export async function findMatches(store: Store, ruleSet: ActiveRuleSet, options: Pick<SweepOptions, "calendar" | "engine" | "onProgress"> & { now: number }): Promise<{ evaluated: number; matches: Match[] }> {
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
 * Decide what changes, from what matched and what is live. The database's partial
 * unique index still guards the creates: this is the policy, that is the guarantee.
 */
export function planNudges(store: Store, matches: readonly Match[], ruleIds: ReadonlySet<string>, now: number): Plan {
  const live = store.sqlite
    .prepare(
      "SELECT id, rule_id AS ruleId, customer_id AS customerId, status, snoozed_until AS snoozedUntil, (delivered_at IS NOT NULL) AS delivered FROM nudges WHERE status IN ('open','snoozed')",
    )
    .all() as LiveNudge[];
  const liveByKey = new Map(live.map((n) => [`${n.ruleId}\u0000${n.customerId}`, n]));
  const cooling = new Set(
    (
      store.sqlite
        .prepare("SELECT DISTINCT rule_id AS ruleId, customer_id AS customerId FROM nudges WHERE cooldown_until > ?")
        .all(now) as Array<{ ruleId: string; customerId: number }>
    ).map((n) => `${n.ruleId}\u0000${n.customerId}`),
  );
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
    const key = `${nudge.ruleId}\u0000${nudge.customerId}`;
    if (seen.has(key)) continue;
    plan.expire.push({ ...nudge, reason: ruleIds.has(nudge.ruleId) ? "conditions-cleared" : "rule-removed" });
  }
  return plan;
}

function applyPlan(store: Store, plan: Plan, ruleSetVersion: number, runId: number, now: number): { created: Match[] } {
  const insertNudge = store.sqlite.prepare(`INSERT INTO nudges (rule_id, rule_set_version, customer_id, status, priority, explanation, message, action, facts,
      held_out, resolve_on_touch, cooldown_days, destination, sweep_run_id, last_touch_at, created_at, updated_at)
    VALUES (@ruleId, @version, @customerId, 'open', @priority, @explanation, @message, @action, @facts, @heldOut, @resolveOnTouch, @cooldownDays, @destination, @runId, @lastTouchAt, @now, @now)
    ON CONFLICT DO NOTHING`);
  const enqueue = store.sqlite.prepare("INSERT INTO outbox (kind, nudge_id, status, attempts, next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, ?, ?)");
  const reopen = store.sqlite.prepare("UPDATE nudges SET status = 'open', snoozed_until = NULL, updated_at = ? WHERE id = ? AND status = 'snoozed'");
  const expire = store.sqlite.prepare(
    "UPDATE nudges SET status = 'expired', closed_at = ?, close_reason = ?, updated_at = ? WHERE id = ? AND status IN ('open','snoozed')",
  );
  const created: Match[] = [];
  store.sqlite.transaction(() => {
    for (const match of plan.create) {
      const info = insertNudge.run({
        ruleId: match.rule.id,
        version: ruleSetVersion,
        customerId: match.customerId,
        priority: PRIORITIES[match.rule.nudge.priority],
        explanation: match.explanation,
        message: match.message,
        action: match.rule.nudge.action ?? null,
        facts: JSON.stringify(match.facts),
        heldOut: match.heldOut ? 1 : 0,
        resolveOnTouch: match.rule.nudge.resolveOnTouch ? 1 : 0,
        cooldownDays: match.rule.nudge.cooldownDays,
        destination: match.rule.nudge.destination,
        runId,
        lastTouchAt: match.lastTouchAt,
        now,
      });
      if (info.changes === 0) continue;
      created.push(match);
      // Held-out nudges are recorded for the experiment and never delivered.
      if (!match.heldOut) enqueue.run("deliver", Number(info.lastInsertRowid), now, now);
    }
    for (const nudge of plan.reopen) {
      if (reopen.run(now, nudge.id).changes === 1) enqueue.run("deliver", nudge.id, now, now);
    }
    for (const nudge of plan.expire) {
      if (expire.run(now, nudge.reason, now, nudge.id).changes === 1 && nudge.delivered) enqueue.run("update", nudge.id, now, now);
    }
  })();
  return { created };
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
    const { evaluated, matches } = await findMatches(store, ruleSet, { ...options, now });
    renewLease(store, lease, LEASE_TTL_MS);
    const ruleIds = new Set(ruleSet.ruleFile.rules.filter((r) => r.enabled).map((r) => r.id));
    const plan = planNudges(store, matches, ruleIds, now);
    const created = dryRun ? plan.create : applyPlan(store, plan, ruleSet.version, runId, now).created;
    const escalated = dryRun ? [] : escalateOverdueNudges(store, ruleSet, { now, calendar: options.calendar });
    const report: SweepReport = {
      runId,
      asOf: now,
      ruleSetVersion: ruleSet.version,
      dryRun,
      evaluated,
      matched: matches.length,
      created: created.length,
      reopened: plan.reopen.length,
      expired: plan.expire.length,
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
    if (runId !== 0) {
      store.sqlite.prepare("UPDATE sweep_runs SET status = 'error', finished_at = ?, error = ? WHERE id = ?").run(Date.now(), (error as Error).message, runId);
    }
    throw error;
  } finally {
    releaseLease(store, lease);
  }
}
