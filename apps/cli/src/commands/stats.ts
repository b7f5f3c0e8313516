import { computeStats, noiseLines, percent, type Stats } from "@keepwarm/core";
import type { Run } from "../command";
import type { statsArgs } from "./index";
import { resolvePeriod } from "./stats-period";

const signed = (x: number | null) => (x === null ? "—" : `${x > 0 ? "+" : ""}${x}`);

function textReport(s: Stats): string[] {
  const r = s.retention.total;
  const lines = [
    `KPIs ${s.from} → ${s.to} (${s.days} days)${s.segment === null ? "" : ` (segment ${s.segment})`}`,
    "",
    `Retention   ${percent(r.retentionRate)} ((${r.atEnd} at the end − ${r.new} new) ÷ ${r.atStart} at the start; ${r.churned} churned = ${percent(r.churnRate)})`,
  ];
  for (const seg of s.retention.bySegment)
    lines.push(`  ${seg.segment.padEnd(14)} ${percent(seg.retentionRate).padStart(6)}  ((${seg.atEnd} − ${seg.new}) ÷ ${seg.atStart}; ${seg.churned} churned)`);
  lines.push(
    `NPS now     ${signed(s.nps.now.nps)} (${s.nps.now.responses} answers in the last ${s.nps.windowDays} days: ${s.nps.now.promoters} promoters, ${s.nps.now.passives} passives, ${s.nps.now.detractors} detractors)`,
  );
  lines.push(`  by month   ${s.nps.byMonth.map((m) => `${m.month} ${signed(m.nps)} (${m.responses})`).join(" · ") || "—"}`);
  const c = s.touchCadence;
  lines.push(`Quiet       ${c.quiet} of ${c.customers} customers with no touch for ${c.quietDays}+ days (${c.neverTouched} never touched)`);
  lines.push(`  days since last touch: ${c.buckets.map((b) => `${b.label}: ${b.count}`).join(" · ")}`);
  lines.push(
    `Loyalty     ${percent(s.loyalty.enrollmentRate)} of ${s.loyalty.frequentBuyers} frequent buyers (5+ purchases in 90 days) are members (${s.loyalty.enrolled})`,
  );
  lines.push(`Touches per rep per week (over ${s.repActivity.weeksInPeriod} weeks):`);
  for (const rep of s.repActivity.reps) lines.push(`  ${rep.name.padEnd(16)} ${String(rep.perWeek).padStart(5)} /week  (${rep.touches} touches)`);
  if (s.repActivity.reps.length === 0) lines.push("  no touches in this period");
  lines.push("Nudge funnel (nudges created in the period):");
  for (const f of s.funnel) {
    lines.push(
      `  ${f.ruleId}: ${f.nudged} nudged${f.heldOut > 0 ? ` + ${f.heldOut} held out` : ""} → ${f.delivered} delivered → ${f.resolvedByTouch} resolved by a touch; ${f.snoozed} snoozed, ${f.dismissed} dismissed, ${f.expired} expired, ${f.stillOpen} open, ${f.escalated} escalated; median ${f.medianDaysToTouch === null ? "—" : `${f.medianDaysToTouch} days`} to a touch`,
    );
  }
  if (s.funnel.length === 0) lines.push("  no nudges in this period");
  lines.push("Holdouts (nudged vs held out):");
  for (const h of s.holdouts) {
    lines.push(`  ${h.ruleId} (${h.nudges.nudged} nudged, ${h.nudges.heldOut} held out)`);
    for (const v of [h.touched7.verdict, h.touched14.verdict, h.churned.verdict, h.npsChange.verdict]) lines.push(`    ${v}`);
  }
  if (s.holdouts.length === 0) lines.push('  no rule has a holdout group yet (set "holdoutPercent" in a rule\'s nudge)');
  lines.push("A/B message versions (version a = the rule's message, b = its variantB):");
  for (const v of s.variants) lines.push(`  ${v.ruleId} (${v.nudges.a} version a, ${v.nudges.b} version b)`, `    ${v.touched7.verdict}`);
  if (s.variants.length === 0) lines.push('  no rule tests two versions of its message (add "variantB" to a rule\'s nudge)');
  lines.push("Noise per rule (⚠ = mostly noise; keepwarm rules suggest RULE proposes a stricter threshold):");
  lines.push(...noiseLines(s.noise));
  if (s.noise.rules.length === 0) lines.push("  no nudges in this period");
  return lines;
}

export const statsCommand: Run<typeof statsArgs> = async (values, ctx) => {
  const store = await ctx.store({ readonlyFallback: true });
  const stats = await computeStats(store, await resolvePeriod(store, ctx, values));
  if (values.json) ctx.out(JSON.stringify(stats));
  else for (const line of textReport(stats)) ctx.out(line);
  return 0;
};
