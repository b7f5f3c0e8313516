import { logTouch, snoozeNudge } from "@keepwarm/core";
import { DAY_MS, findCustomerByExternalId } from "@keepwarm/store";
import type { FakeMessage } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, outboxRows, REP, startHarness, sweep } from "./harness";

/** A snoozed nudge comes back and is posted again: its first message must not keep saying "snoozed". */
let h: Harness;
afterEach(async () => h?.close());

const shown = (m: FakeMessage | undefined) => JSON.stringify(m?.blocks ?? []);
const hasButtons = (m: FakeMessage | undefined) => shown(m).includes('"type":"actions"');

async function drain(): Promise<void> {
  for (let i = 0; i < 10 && (await outboxRows(h.store)).some((o) => o.status === "pending"); i++) {
    await h.bot.delivery.runOnce();
    h.clock.advance(5_000);
  }
}

describe("every message of a re-delivered nudge is brought up to date", () => {
  it("the first message loses its snoozed line when the nudge comes back, and both show the touch that closes it", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp", owner: REP }] });
    await sweep(h.store);
    await drain();
    const [nudge] = await h.store.db.selectFrom("nudges").select("id").execute();
    const nudgeId = nudge?.id ?? 0;
    await snoozeNudge(h.store, nudgeId, 3, REP, h.clock.now());
    await drain();
    expect(shown(h.fake.allMessages()[0])).toContain("Snoozed");

    // The snooze ends; the next sweep reopens the nudge and delivers it again.
    h.clock.advance(4 * DAY_MS);
    await sweep(h.store, h.clock.now());
    await drain();
    const [first, second] = h.fake.allMessages();
    expect(h.fake.allMessages()).toHaveLength(2);
    expect(shown(first)).not.toContain("Snoozed");
    expect(shown(second)).not.toContain("Snoozed");

    const customer = await findCustomerByExternalId(h.store.db, "C-1");
    await logTouch(h.store, {
      customerId: customer?.id ?? 0,
      kind: "call",
      occurredAt: h.clock.now(),
      note: null,
      loggedBy: REP,
      source: "cli",
      now: h.clock.now(),
    });
    await drain();
    for (const message of h.fake.allMessages()) {
      expect(shown(message)).toContain("call logged");
      expect(hasButtons(message)).toBe(false);
    }
    expect(h.fake.allMessages()).toHaveLength(2);
  });
});
