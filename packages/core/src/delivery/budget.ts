/** What the budget needs of an item: who receives it (null = not budgeted, e.g. a channel) and its priority. */
export interface BudgetItem {
  recipient: string | null;
  priority: number;
}

/**
 * The nudge budget: at most `max` nudges per recipient and day, highest priority first
 * (ties keep their order, i.e. oldest first). Items beyond the budget are deferred:
 * the caller leaves them queued, so they arrive on a later day instead of flooding a DM.
 * Pure: `deliveredTodayByRecipient` says how many each recipient already got today.
 */
export function applyNudgeBudget<T extends BudgetItem>(
  items: readonly T[],
  deliveredTodayByRecipient: ReadonlyMap<string, number>,
  max: number,
): { now: T[]; deferred: T[] } {
  const ranked = items.map((item, index) => ({ item, index })).sort((a, b) => b.item.priority - a.item.priority || a.index - b.index);
  const used = new Map(deliveredTodayByRecipient);
  const now: T[] = [];
  const deferred: T[] = [];
  for (const { item } of ranked) {
    if (item.recipient === null) {
      now.push(item);
      continue;
    }
    const count = used.get(item.recipient) ?? 0;
    if (count >= max) {
      deferred.push(item);
      continue;
    }
    used.set(item.recipient, count + 1);
    now.push(item);
  }
  return { now, deferred };
}
