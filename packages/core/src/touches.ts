import type { ResolvedNudge, Store, TouchKind, TouchSource } from "@keepwarm/store";
import { recordTouch, TOUCH_KINDS } from "@keepwarm/store";
import type { Calendar } from "@keepwarm/rules";
import { cooldownUntil } from "./dates";
import { UserError } from "./errors";

export type { ResolvedNudge } from "@keepwarm/store";

export interface TouchInput {
  customerId: number;
  kind: TouchKind;
  occurredAt: number;
  note?: string | null;
  loggedBy?: string | null;
  source: TouchSource;
  now?: number;
  /** KEEPWARM_TZ: the cooldowns of the nudges the touch closes count its calendar days (default UTC). */
  calendar?: Calendar;
}

export const isTouchKind = (text: string): text is TouchKind => (TOUCH_KINDS as readonly string[]).includes(text);

/**
 * Record a touch and, in the same transaction, resolve the nudges it answers: a touch
 * resolves a customer's open "contact" nudges when it is newer than the customer's last
 * touch at the time the nudge was planned (an old touch logged late changes nothing).
 */
export async function logTouch(store: Store, input: TouchInput): Promise<{ touchId: number; resolved: ResolvedNudge[] }> {
  const now = input.now ?? Date.now();
  if (input.occurredAt > now + 5 * 60_000) throw new UserError("the touch date is in the future");
  if (!isTouchKind(input.kind)) throw new UserError(`unknown touch kind "${input.kind}": use ${TOUCH_KINDS.join(", ")}`);
  return recordTouch(
    store,
    {
      customerId: input.customerId,
      kind: input.kind,
      occurredAt: input.occurredAt,
      note: input.note ?? null,
      loggedBy: input.loggedBy ?? null,
      source: input.source,
    },
    now,
    cooldownUntil(now, input.calendar),
  );
}
