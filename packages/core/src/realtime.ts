import { type BackgroundLoop, startBackgroundLoop } from "./background-loop";
import type { Calendar } from "@keepwarm/rules";
import {
  applyNudgePlan,
  type ClaimedEvaluation,
  claimEvaluations,
  coolingPairsOf,
  factRowsOf,
  finishEvaluations,
  liveNudgesOf,
  releaseEvaluations,
  type Store,
  writeTransaction,
} from "@keepwarm/store";
import { hostname } from "node:os";
import { type Evaluation, matchRows, prepareEvaluation, sweepColumns } from "./facts/evaluation";
import { type ActiveRuleSet, getActiveRuleSet } from "./rule-sets";
import { type Match, planNudges, plannedRows } from "./sweep";

/**
 * Real-time evaluation: the customers whose facts a touch, an NPS response or a
 * purchase just changed are re-evaluated at once, through the sweep's own pieces —
 * the fact scan's SQL scoped to them, the compiled rules, planNudges (dedupe against
 * live nudges, cooldowns, holdout), applyNudgePlan — so a rule means the same thing at
 * 9:05 as at the 9:00 sweep. The ingest writes "customer X needs re-evaluation" in its
 * own transaction (the store's evaluation queue); the long-running processes drain it.
 * The sweep is not waited for: the partial unique index on live nudges is what keeps
 * the two from creating one nudge twice, whichever commits first.
 */

export interface RealtimeReport {
  /** Customers taken from the queue. */
  claimed: number;
  /** Of those, the customers that exist at `now` and were evaluated. */
  evaluated: number;
  created: Match[];
  reopened: number;
  expired: number;
}

export interface DrainOptions {
  calendar: Calendar;
  /** Who claims the queue rows (a process). */
  claimant: string;
  now?: number;
  /** Customers per pass. */
  limit?: number;
  /** Only these customers (a one-shot CLI evaluating what it just wrote). */
  customerIds?: readonly number[];
  /** The evaluation of the active rule set, kept across passes by a loop (see EvaluationCache). */
  cache?: EvaluationCache;
}

/** Customers per pass: a pass is one short write transaction, whatever the backlog. */
export const REALTIME_BATCH = 200;
/** A claimed customer not finished within this is taken again (its drainer died). */
const CLAIM_TTL_MS = 60_000;

/**
 * One rule set's prepared evaluation, reused while the active version stays the
 * same. Not for concurrent passes: a fact program keeps per-customer state while it
 * evaluates, so each drainer (loop or CLI) has its own.
 */
export class EvaluationCache {
  #version = -1;
  #evaluation: Evaluation | undefined;
  get(ruleSet: ActiveRuleSet): Evaluation {
    if (this.#evaluation === undefined || this.#version !== ruleSet.version) {
      this.#evaluation = prepareEvaluation(ruleSet.ruleFile);
      this.#version = ruleSet.version;
    }
    return this.#evaluation;
  }
}

/** A claimant name unique to this process and drainer. */
export function evaluationClaimant(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
}

/** Claim up to a batch of queued customers and evaluate them; nothing claimed, nothing done. */
export async function drainEvaluationQueue(store: Store, options: DrainOptions): Promise<RealtimeReport> {
  const claimed = await claimEvaluations(store.db, {
    claimant: options.claimant,
    now: options.now ?? Date.now(),
    limit: options.limit ?? REALTIME_BATCH,
    ttlMs: CLAIM_TTL_MS,
    ...(options.customerIds === undefined ? {} : { customerIds: options.customerIds }),
  });
  if (claimed.length === 0) return { claimed: 0, evaluated: 0, created: [], reopened: 0, expired: 0 };
  // The facts' instant is taken after the claim, not before: a claim that waited for a
  // connection must not evaluate as of a moment before the events it was queued for.
  try {
    return await evaluateClaimed(store, claimed, { ...options, now: options.now ?? Date.now() });
  } catch (error) {
    // The next pass takes them again at once, not when the claim runs out a minute later.
    await releaseEvaluations(store.db, options.claimant, claimed).catch(() => {});
    throw error;
  }
}

/**
 * Evaluate claimed customers against the active rule set at `now`, then — in one
 * write transaction — read their live nudges and cooldowns, plan as the sweep plans,
 * apply, and take them off the queue. Deliveries go out `pending` (not held as a
 * sweep's are): nothing else is coming to batch them with.
 */
async function evaluateClaimed(store: Store, claimed: readonly ClaimedEvaluation[], options: DrainOptions & { now: number }): Promise<RealtimeReport> {
  const { now, calendar } = options;
  const ruleSet = await getActiveRuleSet(store);
  // No rules applied yet: nothing can match. The first sweep activates the defaults.
  if (ruleSet === undefined) {
    await writeTransaction(store.db, (trx) => finishEvaluations(trx, options.claimant, claimed));
    return { claimed: claimed.length, evaluated: 0, created: [], reopened: 0, expired: 0 };
  }
  const evaluation = (options.cache ?? new EvaluationCache()).get(ruleSet);
  const { columns, lastTouch } = sweepColumns(evaluation, now, calendar);
  const customerIds = claimed.map((c) => c.customerId);
  const rows = await factRowsOf(store, now, columns, customerIds);
  const matches = await matchRows(evaluation, rows, { now, calendar, lastTouch });
  return writeTransaction(store.db, async (trx) => {
    const scope = { customerIds };
    const live = await liveNudgesOf(trx, scope);
    const cooling = new Set((await coolingPairsOf(trx, scope, now)).map((pair) => `${pair.ruleId}\u0000${pair.customerId}`));
    const plan = planNudges(matches, live, cooling, evaluation.ruleIds, now);
    const written = await applyNudgePlan(
      store,
      trx,
      { create: plannedRows(plan, ruleSet.version, null), reopen: plan.reopen.map((n) => n.id), expire: plan.expire },
      now,
      { deliveries: "pending" },
    );
    await finishEvaluations(trx, options.claimant, claimed);
    // A sweep committing first may have won a key: report only what this pass created.
    const won = new Set(written.map((pair) => `${pair.ruleId}\u0000${pair.customerId}`));
    return {
      claimed: claimed.length,
      evaluated: rows.length,
      created: plan.create.filter((m) => won.has(`${m.rule.id}\u0000${m.customerId}`)),
      reopened: plan.reopen.length,
      expired: plan.expire.length,
    };
  });
}

/** The real-time queue drained in the background; `idle()` resolves once a pass found it empty. */
export type EvaluationLoop = BackgroundLoop;

/**
 * The queue drained in the background of a long-running process (bot, worker,
 * `keepwarm api`): a pass whenever kicked or every `intervalMs`, passes back to back
 * while a backlog lasts (a large import), never two at once. `onChange` runs after a
 * pass that created, reopened or expired a nudge (wake delivery).
 */
export function startEvaluationLoop(
  store: Store,
  options: { calendar: Calendar; intervalMs?: number; log: (line: string) => void; onChange?: (report: RealtimeReport) => void; limit?: number },
): EvaluationLoop {
  const interval = options.intervalMs ?? 250;
  const claimant = evaluationClaimant();
  const cache = new EvaluationCache();
  const limit = options.limit ?? REALTIME_BATCH;
  let failures = 0;
  return startBackgroundLoop(
    async () => {
      const report = await drainEvaluationQueue(store, { calendar: options.calendar, claimant, limit, cache });
      failures = 0;
      if (report.created.length + report.reopened + report.expired > 0) {
        options.log(
          `real-time: ${report.claimed} customer${report.claimed === 1 ? "" : "s"} re-evaluated, ${report.created.length} new nudge${report.created.length === 1 ? "" : "s"}, ${report.reopened} reopened, ${report.expired} expired`,
        );
        options.onChange?.(report);
      }
      // A backlog (a large import) goes on at once.
      return { nextInMs: report.claimed === limit ? 0 : interval, settled: report.claimed === 0 };
    },
    (error) => {
      failures++;
      options.log(`real-time evaluation failed: ${(error as Error).message}`);
      // A failing database is retried with a growing pause.
      return { nextInMs: Math.min(30_000, interval * 2 ** failures), settled: false };
    },
  );
}
