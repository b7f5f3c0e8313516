import { type Env, runSweep, SweepBusyError, type SweepReport } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import type { Store } from "@keepwarm/store";
import cron from "node-cron";

export interface WorkerDeps {
  store: Store;
  env: Pick<Env, "KEEPWARM_SCHEDULE" | "KEEPWARM_TZ">;
  log: (line: string) => void;
  /** Called after each sweep that changed something: console or Slack delivery. */
  afterSweep?: (report: SweepReport) => Promise<void> | void;
}

export interface Worker {
  /** Run one sweep now (what a cron tick does). */
  tick(): Promise<SweepReport | undefined>;
  /** When the schedule fires next; undefined when it never will. */
  nextRun(): Date | undefined;
  /** Stop scheduling and wait for a sweep in progress. */
  stop(): Promise<void>;
}

/**
 * The sweep on a cron schedule. Ticks never overlap: in-process by a flag, across
 * processes by the sweep lease (a busy lease skips the tick instead of queueing it).
 */
export function startWorker(deps: WorkerDeps): Worker {
  const calendar = new Calendar(deps.env.KEEPWARM_TZ);
  let running: Promise<SweepReport | undefined> | undefined;
  const tick = (): Promise<SweepReport | undefined> => {
    if (running !== undefined) {
      deps.log("sweep: previous sweep still running; skipping this tick");
      return running;
    }
    running = (async () => {
      try {
        const report = await runSweep(deps.store, { calendar });
        deps.log(
          `sweep #${report.runId}: ${report.evaluated} customers, ${report.created} new nudges, ${report.reopened} reopened, ${report.expired} expired (rules v${report.ruleSetVersion})`,
        );
        await deps.afterSweep?.(report);
        const next = task.getNextRun();
        if (next !== null) deps.log(`next sweep at ${next.toISOString()}`);
        return report;
      } catch (error) {
        if (error instanceof SweepBusyError) deps.log(`sweep: skipped, ${error.message}`);
        else deps.log(`sweep failed: ${(error as Error).message}`);
        return undefined;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const task = cron.schedule(deps.env.KEEPWARM_SCHEDULE, () => void tick(), { timezone: deps.env.KEEPWARM_TZ, noOverlap: true });
  return {
    tick,
    nextRun: () => task.getNextRun() ?? undefined,
    async stop() {
      await task.stop();
      await running;
    },
  };
}
