import { type Calendar, PRIORITIES } from "@keepwarm/rules";
import {
  abandonRunningSweeps,
  applyNudgePlan,
  coolingPairsInRange,
  type Db,
  extendLease,
  factRowChunks,
  failSweepRun,
  finishSweepRun,
  type LiveNudgeRow,
  liveNudgesInRange,
  type PlannedNudgeRow,
  releaseHeldOutbox,
  type Store,
  startSweepRun,
  writeTransaction,
} from "@keepwarm/store";
import { hostname } from "node:os";
import { escalateOverdueNudges } from "./escalation";
import { UserError } from "./errors";
import { matchRows, prepareEvaluation, sweepColumns } from "./facts/evaluation";
import { LazyMatch } from "./lazy-match";
import type { Match } from "./match";

export type { Match } from "./match";
import { keepLeaseAlive, type LeaseHolder, LeaseLostError, releaseLease, tryAcquireLease } from "./lease";
import { type ActiveRuleSet, ensureActiveRuleSet } from "./rule-sets";

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

/**
 * The sweep lease lives while its holder's heartbeat renews it: a sweep whose process
 * died is taken over within LEASE_TTL_MS, and a live one (renewed every
 * LEASE_RENEW_MS) never is.
 */
export const SWEEP_LEASE = "sweep";
export const LEASE_TTL_MS = 15_000;
const LEASE_RENEW_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function acquireSweepLease(store: Store, waitMs: number): Promise<LeaseHolder> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const result = await tryAcquireLease(store, SWEEP_LEASE, LEASE_TTL_MS);
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
  const evaluation = prepareEvaluation(ruleSet.ruleFile, options.engine);
  const { columns, lastTouch } = sweepColumns(evaluation, options.now, options.calendar);
  const matches: Match[] = [];
  let evaluated = 0;
  const counted = () => {
    evaluated++;
    if (options.onProgress !== undefined && evaluated % 10_000 === 0) options.onProgress(evaluated);
  };
  const next = factRowChunks(store, options.now, columns);
  for (let after: number | undefined = 0; after !== undefined; ) {
    const chunk = await next(after, SWEEP_CHUNK);
    for (const match of await matchRows(evaluation, chunk.rows, { now: options.now, calendar: options.calendar, lastTouch }, counted)) matches.push(match);
    after = chunk.next;
  }
  return { evaluated, matches };
}

type LiveNudge = LiveNudgeRow;

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

/** The rows a plan creates (facts JSON: only what the nudge keeps); a real-time evaluation has no sweep run (null). */
export function plannedRows(plan: Plan, ruleSetVersion: number, runId: number | null): PlannedNudgeRow[] {
  return plan.create.map((match) => {
    const nudge = match.rule.nudge;
    return {
      ruleId: match.rule.id,
      ruleSetVersion,
      customerId: match.customerId,
      priority: PRIORITIES[nudge.priority],
      explanation: match.explanation,
      message: match.message,
      // Version "b" brings its own action; without one it keeps the rule's.
      action: (match.variant === "b" ? nudge.variantB?.action : undefined) ?? nudge.action ?? null,
      facts: match instanceof LazyMatch ? match.factsJson : JSON.stringify(match.facts),
      heldOut: match.heldOut,
      resolveOnTouch: nudge.resolveOnTouch,
      cooldownDays: nudge.cooldownDays,
      destination: nudge.destination,
      sweepRunId: runId,
      lastTouchAt: match.lastTouchAt,
      variant: match.variant,
    };
  });
}

interface SweepTotals {
  evaluated: number;
  matched: number;
  created: Match[];
  reopened: number;
  expired: number;
}

const pairKey = (ruleId: string, customerId: number) => `${ruleId}\u0000${customerId}`;

/**
 * The sweep proper, a chunk of customers at a time in id order: scan their facts,
 * evaluate, then — in one write transaction per chunk — read their live nudges and
 * cooldowns, plan and apply. Memory is bounded by the chunk, not by the customers
 * or the live nudges; each chunk plans against the nudges as they are when it
 * commits. Live nudges of customers the scan no longer returns (churned) fall in a
 * chunk's id range and expire there. Each chunk's transaction first renews the lease
 * (`fence`): a sweep that lost it writes nothing more.
 */
async function sweepChunks(
  store: Store,
  ruleSet: ActiveRuleSet,
  options: Pick<SweepOptions, "calendar" | "engine" | "onProgress" | "chunkSize"> & {
    now: number;
    dryRun: boolean;
    runId: number;
    fence: (trx: Db) => Promise<void>;
  },
): Promise<SweepTotals> {
  const { now, calendar } = options;
  const evaluation = prepareEvaluation(ruleSet.ruleFile, options.engine);
  const { columns, lastTouch } = sweepColumns(evaluation, now, calendar);
  const scan = factRowChunks(store, now, columns);
  const totals: SweepTotals = { evaluated: 0, matched: 0, created: [], reopened: 0, expired: 0 };
  const chunkSize = options.chunkSize ?? SWEEP_CHUNK;
  const counted = () => {
    totals.evaluated++;
    if (options.onProgress !== undefined && totals.evaluated % 10_000 === 0) options.onProgress(totals.evaluated);
  };
  // PostgreSQL: a chunk's write transaction runs on the server while the next chunk is
  // evaluated here (its facts were fetched ahead): one write in flight at a time, in
  // chunk order, each awaited before the next begins. SQLite's one connection does one
  // thing at a time, so there every write completes before the scan goes on.
  const overlapWrites = store.engine === "postgres";
  let writing: Promise<void> | undefined;
  let after = 0;
  try {
    for (;;) {
      const { rows, next } = await scan(after, chunkSize);
      // The chunk covers the ids (after, last]: its live nudges are planned with it.
      const last = next ?? Number.MAX_SAFE_INTEGER;
      const from = after;
      const matches = await matchRows(evaluation, rows, { now, calendar, lastTouch }, counted);
      totals.matched += matches.length;
      const planChunk = async (db: Db) => {
        const live = await liveNudgesInRange(db, from, last);
        const cooling = new Set((await coolingPairsInRange(db, from, last, now)).map((pair) => pairKey(pair.ruleId, pair.customerId)));
        return planNudges(matches, live, cooling, evaluation.ruleIds, now);
      };
      if (options.dryRun) {
        const plan = await planChunk(store.db);
        for (const match of plan.create) totals.created.push(match);
        totals.reopened += plan.reopen.length;
        totals.expired += plan.expire.length;
      } else {
        await writing;
        const write = writeTransaction(store.db, async (trx) => {
          await options.fence(trx);
          const plan = await planChunk(trx);
          const written = await applyNudgePlan(
            store,
            trx,
            { create: plannedRows(plan, ruleSet.version, options.runId), reopen: plan.reopen.map((n) => n.id), expire: plan.expire },
            now,
          );
          // A concurrent writer may have won a key: report only the nudges this chunk created.
          const created = new Set(written.map((pair) => pairKey(pair.ruleId, pair.customerId)));
          for (const match of plan.create) if (created.has(pairKey(match.rule.id, match.customerId))) totals.created.push(match);
          totals.reopened += plan.reopen.length;
          totals.expired += plan.expire.length;
        });
        if (overlapWrites) {
          writing = write;
          // Its failure surfaces at the next await of `writing`; until then it is not unhandled.
          write.catch(() => {});
        } else await write;
      }
      if (last === Number.MAX_SAFE_INTEGER) {
        await writing;
        return totals;
      }
      after = last;
      // On SQLite every await above is a microtask: without a turn of the event loop a bot
      // in the same process (`keepwarm start`) would serve no request until the sweep ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    // Nothing may still be writing when the sweep reports its failure.
    await writing?.catch(() => {});
    throw error;
  }
}

/**
 * One sweep: facts for every customer, one whole rule-set version, planned changes
 * applied a chunk at a time, the run recorded. Safe to run twice, concurrently or
 * after a crash: the lease serialises sweeps and the database refuses duplicates.
 * Deliveries the sweep plans are held until it ends (see applyNudgePlan), so a
 * delivery pass running meanwhile in another process sees a rep's nudges all at
 * once, in one digest and in priority order.
 */
export async function runSweep(store: Store, options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun ?? false;
  const lease = await acquireSweepLease(store, options.waitMs ?? 0);
  const heartbeat = keepLeaseAlive(store, lease, { ttlMs: LEASE_TTL_MS, everyMs: LEASE_RENEW_MS });
  // Inside a write transaction: renew the lease or stop, so a sweep that lost it writes nothing more.
  const fence = async (trx: Db) => {
    heartbeat.assertHeld();
    if (!(await extendLease(trx, lease.name, lease.holder, LEASE_TTL_MS, Date.now()))) throw new LeaseLostError(lease);
  };
  let runId = 0;
  try {
    // We hold the lease, so any run still marked running belongs to a dead holder;
    // the deliveries it held are real nudges' and go out now.
    await abandonRunningSweeps(store.db, Date.now());
    if (!dryRun) await releaseHeldOutbox(store.db);
    const ruleSet = options.ruleSet ?? (await ensureActiveRuleSet(store));
    runId = await startSweepRun(store.db, { startedAt: Date.now(), dryRun, asOf: now, ruleSetVersion: ruleSet.version, host: hostname(), pid: process.pid });
    const totals = await sweepChunks(store, ruleSet, { ...options, now, dryRun, runId, fence });
    if (!dryRun) {
      await writeTransaction(store.db, async (trx) => {
        await fence(trx);
        await releaseHeldOutbox(trx);
      });
    }
    const created = totals.created;
    const escalated = dryRun ? [] : await escalateOverdueNudges(store, ruleSet, { now, calendar: options.calendar });
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
    await finishSweepRun(store.db, runId, report, Date.now());
    return report;
  } catch (error) {
    // Nudges of the chunks that committed are live: deliver them. Not after losing the
    // lease: the sweep that took over holds deliveries of its own, and releases ours.
    if (!dryRun && !(error instanceof LeaseLostError)) await releaseHeldOutbox(store.db).catch(() => {});
    if (runId !== 0) await failSweepRun(store.db, runId, (error as Error).message, Date.now()).catch(() => {});
    throw error;
  } finally {
    heartbeat.stop();
    await releaseLease(store, lease).catch(() => {});
  }
}
