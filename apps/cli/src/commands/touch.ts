import { drainEvaluationQueue, evaluationClaimant, logTouch, parseTouchTokens, type RealtimeReport, tokensFromArgs, UserError } from "@keepwarm/core";
import { TOUCH_KINDS } from "@keepwarm/store";
import type { Run } from "../command";
import type { touchArgs } from "./index";

const USAGE = `usage: keepwarm touch <customer> [${TOUCH_KINDS.join("|")}] [today|yesterday|YYYY-MM-DD] [note…] [--by U123] [--json]`;

export const touchCommand: Run<typeof touchArgs> = async (values, ctx) => {
  const positionals = values._;
  const store = await ctx.store();
  const now = Date.now();
  // The shell already split the words: re-joining and re-splitting them would mangle quotes in names and notes.
  const parsed = await parseTouchTokens(store, tokensFromArgs(positionals), now, ctx.calendar);
  if (!parsed.ok) {
    switch (parsed.error) {
      case "empty":
        throw new UserError(`which customer? ${USAGE} (see keepwarm touch --help)`);
      case "ambiguous":
        throw new UserError(
          `"${parsed.query}" matches several customers: ${parsed.candidates.map((c) => `${c.name} (${c.external_id})`).join(", ")}; use the id or the full name`,
        );
      case "not_found":
        throw new UserError(
          `no customer matches "${parsed.query}"${parsed.suggestions.length > 0 ? `; did you mean ${parsed.suggestions.map((c) => `"${c.name}"`).join(", ")}?` : ""}`,
        );
      default:
        throw new UserError(parsed.message);
    }
  }
  const result = await logTouch(store, {
    customerId: parsed.customer.id,
    kind: parsed.kind,
    occurredAt: parsed.occurredAt,
    note: parsed.note,
    loggedBy: values.by ?? ctx.vars.USER ?? "cli",
    source: "cli",
    now,
    calendar: ctx.calendar,
  });
  // One customer: evaluate it here rather than leave it to a running process. Claimed by
  // a running process already (claimed 0), that process has it.
  const evaluation = await drainEvaluationQueue(store, { calendar: ctx.calendar, claimant: evaluationClaimant(), customerIds: [parsed.customer.id] });
  if (values.json) {
    ctx.out(
      JSON.stringify({
        touchId: result.touchId,
        customerId: parsed.customer.external_id,
        kind: parsed.kind,
        occurredAt: new Date(parsed.occurredAt).toISOString(),
        note: parsed.note,
        resolved: result.resolved.map((r) => ({ nudgeId: r.nudgeId, ruleId: r.ruleId })),
        evaluation:
          evaluation.claimed === 0
            ? { status: "queued" }
            : {
                status: "evaluated",
                created: evaluation.created.map((m) => ({ ruleId: m.rule.id, heldOut: m.heldOut })),
                expired: evaluation.expired,
                reopened: evaluation.reopened,
              },
      }),
    );
    return 0;
  }
  ctx.out(`logged ${parsed.kind} with ${parsed.customer.name} on ${ctx.calendar.isoDate(parsed.occurredAt)}${parsed.note ? `: ${parsed.note}` : ""}`);
  if (result.resolved.length > 0)
    ctx.out(`resolved ${result.resolved.length} nudge${result.resolved.length === 1 ? "" : "s"}: ${result.resolved.map((r) => r.ruleId).join(", ")}`);
  ctx.out(evaluationLine(evaluation));
  return 0;
};

/** What re-evaluating the customer changed, as one line. */
function evaluationLine(report: RealtimeReport): string {
  if (report.claimed === 0) return "rules: queued for re-evaluation (a running keepwarm process has it)";
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const delivered = report.created.filter((m) => !m.heldOut);
  const parts = [
    ...(delivered.length > 0
      ? [`${plural(delivered.length, "new nudge")} (${delivered.map((m) => m.rule.id).join(", ")}), delivered by the running bot or the next sweep`]
      : []),
    ...(delivered.length < report.created.length ? [`${report.created.length - delivered.length} held out (recorded, not sent)`] : []),
    ...(report.reopened > 0 ? [`${report.reopened} reopened`] : []),
    ...(report.expired > 0 ? [`${plural(report.expired, "nudge")} expired (conditions cleared)`] : []),
  ];
  return `rules: re-evaluated; ${parts.length === 0 ? "no change" : parts.join("; ")}`;
}
