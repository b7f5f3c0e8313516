/** What a pass tells its loop: when to run again, and whether `idle()` may resolve. */
export interface LoopPass {
  nextInMs: number;
  /** Nothing left that a waiter on `idle()` is waiting for (the queue was empty, say). */
  settled: boolean;
}

export interface BackgroundLoop {
  /** Run a pass soon: at once, or right after the pass under way. */
  kick(): void;
  /** Resolves after the next pass that reports itself settled (tests, `keepwarm start`). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The shape of every background worker of a long-running process (Slack delivery,
 * webhooks, real-time evaluation): passes never overlap; the next one runs after the
 * wait the last one asked for, or at once when kicked meanwhile. A pass that throws is
 * handed to `onError`, which says how long to back off. Timers are unref'd: a loop
 * never keeps a process alive by itself.
 */
export function startBackgroundLoop(pass: () => Promise<LoopPass>, onError: (error: unknown) => LoopPass): BackgroundLoop {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  };

  function run(): void {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      let outcome: LoopPass;
      let failed = false;
      try {
        outcome = await pass();
      } catch (error) {
        failed = true;
        outcome = onError(error);
      }
      running = undefined;
      if (outcome.settled) {
        const done = waiters;
        waiters = [];
        for (const resolve of done) resolve();
      }
      // A failing pass backs off even when kicked: the kick would only fail again.
      const wait = again && !failed ? 0 : outcome.nextInMs;
      again = false;
      schedule(wait);
    })();
  }

  schedule(0);
  return {
    kick() {
      if (running !== undefined) again = true;
      else schedule(0);
    },
    idle() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        if (running === undefined) schedule(0);
      });
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      for (const resolve of waiters) resolve();
      waiters = [];
    },
  };
}
