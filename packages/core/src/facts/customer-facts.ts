import type { Calendar, CustomerRecord, FactProgram, Facts } from "@keepwarm/rules";
import { factRowChunks, type Store } from "@keepwarm/store";
import { scanColumns } from "./columns";

export interface CustomerFacts {
  customer: CustomerRecord;
  facts: Facts;
  /** The facts `daysAgo` days before, when the program computes them (the health score's 30 days). */
  past(daysAgo: number): Facts | undefined;
}

/**
 * A program's facts for some customers (or all) at `now`, through the same scan a
 * sweep runs: the customer summary, the report and the tests read facts this way.
 * Customers who do not exist at `now` (not started, churned) are left out.
 */
export async function factsOfCustomers(
  store: Store,
  program: FactProgram,
  at: { now: number; calendar: Calendar },
  customerIds?: readonly number[],
): Promise<CustomerFacts[]> {
  const next = factRowChunks(store, at.now, scanColumns(program, at.now, at.calendar));
  const out: CustomerFacts[] = [];
  const add = (row: Awaited<ReturnType<typeof next>>["rows"][number]) => {
    const facts = program.evaluate(row, at.now, at.calendar);
    out.push({ customer: row, facts, past: program.past() });
  };
  if (customerIds !== undefined) {
    // One customer per read: the keyset scan from just below its id.
    for (const id of customerIds) {
      const [row] = (await next(id - 1, 1)).rows;
      if (row !== undefined && row.id === id) add(row);
    }
    return out;
  }
  for (let after: number | undefined = 0; after !== undefined; ) {
    const chunk = await next(after, 5_000);
    for (const row of chunk.rows) add(row);
    after = chunk.next;
  }
  return out;
}
