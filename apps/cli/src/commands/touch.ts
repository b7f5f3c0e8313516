import { logTouch, parseTouchTokens, tokensFromArgs, UserError } from "@keepwarm/core";
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
  if (values.json) {
    ctx.out(
      JSON.stringify({
        touchId: result.touchId,
        customerId: parsed.customer.external_id,
        kind: parsed.kind,
        occurredAt: new Date(parsed.occurredAt).toISOString(),
        note: parsed.note,
        resolved: result.resolved.map((r) => ({ nudgeId: r.nudgeId, ruleId: r.ruleId })),
      }),
    );
    return 0;
  }
  ctx.out(`logged ${parsed.kind} with ${parsed.customer.name} on ${ctx.calendar.isoDate(parsed.occurredAt)}${parsed.note ? `: ${parsed.note}` : ""}`);
  if (result.resolved.length > 0)
    ctx.out(`resolved ${result.resolved.length} nudge${result.resolved.length === 1 ? "" : "s"}: ${result.resolved.map((r) => r.ruleId).join(", ")}`);
  return 0;
};
