/**
 * Let the event loop serve what is waiting (an interactive request, Slack's 3 s clock
 * running) before delivery goes on. better-sqlite3 answers synchronously, so a chain of
 * awaited queries alone never gives I/O a turn: delivery calls this between its slices.
 */
export const yieldToHandlers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
