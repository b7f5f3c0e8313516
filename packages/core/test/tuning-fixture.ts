import type { Store } from "@keepwarm/store";
import { applyRuleSet } from "../src/index";
import { customer, touch } from "./stats-fixture";

export const TUNING_RULES = {
  rules: [
    {
      id: "quiet-smb",
      name: "SMB quiet for 30+ days",
      conditions: {
        all: [
          { fact: "segment", operator: "equal", value: "smb" },
          { fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 30 },
        ],
      },
      nudge: { message: "{{customer.name}} has gone quiet", cooldownDays: 14 },
    },
  ],
};

const noon = (date: string) => Date.parse(`${date}T12:00:00Z`);

/**
 * NOW is 2026-06-30 noon; 56 days are replayed: 2026-05-05 … 2026-06-29, each evaluated
 * at the day's end (UTC). Days since the last touch are calendar days.
 *   S (smb): last touch 03-01 → 65 days on 05-05; never touched again.
 *   Q (smb): touched 04-01, then 05-20; 34 days on 05-05.
 *   P (smb): touched 04-25 and 05-20; churned 06-25.
 *   R (smb): touched 04-20, 05-10 and 06-12.
 *   T (enterprise): touched 03-01 — never matches (segment).
 */
export async function seedTuningHistory(store: Store): Promise<void> {
  const since = noon("2025-01-01");
  const S = await customer(store, { id: "S", segment: "smb", since });
  const Q = await customer(store, { id: "Q", segment: "smb", since });
  const P = await customer(store, { id: "P", segment: "smb", since, churned: noon("2026-06-25") });
  const R = await customer(store, { id: "R", segment: "smb", since });
  const T = await customer(store, { id: "T", segment: "enterprise", since });
  for (const [id, dates] of [
    [S, ["2026-03-01"]],
    [Q, ["2026-04-01", "2026-05-20"]],
    [P, ["2026-04-25", "2026-05-20"]],
    [R, ["2026-04-20", "2026-05-10", "2026-06-12"]],
    [T, ["2026-03-01"]],
  ] as const) {
    for (const date of dates) await touch(store, id, noon(date));
  }
  await applyRuleSet(store, JSON.stringify(TUNING_RULES), { author: "test", source: "test" });
}
