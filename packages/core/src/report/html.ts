import { DECLINE_POINTS, type HealthSummary, healthLines } from "../health";
import type { CalibrationReport } from "../health-calibration";
import { aucText, aucVerdict } from "../stats/auc";
import type { HoldoutComparison, NoiseReport, RuleFunnel, Stats } from "../stats/index";
import { barChart, COLORS, escapeXml as esc, lineChart, pairedShareChart, shareChart } from "./svg";

export interface ReportData {
  stats: Stats;
  /** Quiet customers at the end of each week of the period. */
  quietWeekly: Array<{ label: string; quiet: number; customers: number }>;
  generatedAt: number;
  timeZone: string;
  /** The active rules' health score at the end of the period, when they define one. */
  health?: HealthSummary;
  /** `keepwarm report --calibrate`: the score checked against churn over the year before the period's end. */
  calibration?: CalibrationReport;
}

export const percent = (x: number | null): string => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const signed = (x: number | null) => (x === null ? "—" : `${x > 0 ? "+" : ""}${x}`);

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:${COLORS.text};background:#f8fafc;margin:0;padding:24px;line-height:1.45}
main{max-width:960px;margin:0 auto}
h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 8px;font-size:19px;border-bottom:2px solid ${COLORS.grid};padding-bottom:4px}
h3{margin:18px 0 6px;font-size:15px}
.sub{color:#64748b;margin:0 0 20px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.tile{background:#fff;border:1px solid ${COLORS.grid};border-radius:10px;padding:12px 14px}
.tile .v{font-size:28px;font-weight:700}.tile .l{color:#64748b;font-size:13px}
.card{background:#fff;border:1px solid ${COLORS.grid};border-radius:10px;padding:14px;margin:10px 0;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{padding:4px 8px;border-bottom:1px solid ${COLORS.grid};text-align:right}
th:first-child,td:first-child{text-align:left}th{color:#64748b;font-weight:600}
.verdict{margin:4px 0;font-size:14px}.muted{color:#64748b;font-size:13px}
svg{max-width:100%;height:auto}
`;

function tile(value: string, label: string): string {
  return `<div class="tile"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
}

function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  if (rows.length === 0) return `<p class="muted">nothing in this period</p>`;
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function funnelSection(funnel: readonly RuleFunnel[]): string {
  if (funnel.length === 0) return `<p class="muted">No nudges were created in this period.</p>`;
  const charts = funnel.map((f) => {
    const bars = [
      { label: "nudged", value: f.nudged },
      { label: "delivered", value: f.delivered },
      { label: "resolved by a touch", value: f.resolvedByTouch, color: COLORS.good },
      { label: "snoozed (ever)", value: f.snoozed, color: COLORS.warn },
      { label: "dismissed", value: f.dismissed, color: COLORS.muted },
      { label: "expired", value: f.expired, color: COLORS.muted },
      { label: "still open", value: f.stillOpen, color: COLORS.primary },
      { label: "escalated", value: f.escalated, color: COLORS.bad },
    ];
    return `<div class="card"><h3>${esc(f.ruleId)}</h3>${barChart(bars, { label: `nudge funnel of ${f.ruleId}` })}<p class="muted">median time from nudge to touch: ${
      f.medianDaysToTouch === null ? "—" : `${f.medianDaysToTouch} days`
    }${f.heldOut > 0 ? ` · ${f.heldOut} held out (not delivered)` : ""}</p></div>`;
  });
  return charts.join("");
}

function noiseSection(noise: NoiseReport): string {
  if (noise.rules.length === 0) return `<p class="muted">No nudges were created in this period.</p>`;
  const share = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);
  const uplift = (r: NoiseReport["rules"][number]) =>
    r.holdout?.uplift === null || r.holdout?.uplift === undefined
      ? "—"
      : `${r.holdout.uplift >= 0 ? "+" : "−"}${Math.abs(Math.round(r.holdout.uplift * 100))} points`;
  const rows = noise.rules.map((r) => [
    `${r.flagged ? "⚠ " : ""}${r.ruleId}`,
    r.settled,
    share(r.shares.noisy),
    share(r.shares.dismissed),
    share(r.shares.snoozedRepeatedly),
    share(r.shares.expiredUntouched),
    share(r.shares.resolvedByRoutineTouch),
    share(r.shares.alreadyTouched),
    uplift(r),
  ]);
  const evidence = noise.rules
    .filter((r) => r.flagged)
    .flatMap((r) => r.evidence.map((e) => `<p class="verdict">⚠ <b>${esc(r.ruleId)}</b>: ${esc(e)}</p>`))
    .join("");
  const t = noise.thresholds;
  return `<div class="card">${table(
    [
      "rule",
      "settled",
      "noise",
      "dismissed",
      "snoozed 2+",
      "expired untouched",
      `touch after ${t.routineAfterDays}+ days`,
      "already touched",
      "holdout uplift",
    ],
    rows,
  )}${evidence}<p class="muted">Shares of settled nudges. ⚠ = mostly noise: at least ${t.minSettled} settled and ${t.noiseShare * 100}% noise or ${t.alreadyTouchedShare * 100}% about customers touched in the ${t.alreadyTouchedDays} days before, or a holdout showing no uplift. <code>keepwarm rules suggest RULE</code> proposes a stricter threshold.</p></div>`;
}

function holdoutSection(holdouts: readonly HoldoutComparison[]): string {
  if (holdouts.length === 0) {
    return `<p class="muted">No rule has a holdout group yet. Set <code>"holdoutPercent": 20</code> in a rule's nudge to measure whether its nudges change anything.</p>`;
  }
  return holdouts
    .map((h) => {
      const chart = pairedShareChart(
        [
          { label: "touched ≤ 7 days", a: h.touched7.nudged, b: h.touched7.heldOut },
          { label: "touched ≤ 14 days", a: h.touched14.nudged, b: h.touched14.heldOut },
          { label: "churned since", a: h.churned.nudged, b: h.churned.heldOut },
        ],
        { label: `holdout comparison of ${h.ruleId}`, names: ["nudged", "held out"] },
      );
      const verdicts = [h.touched7.verdict, h.touched14.verdict, h.churned.verdict, h.npsChange.verdict]
        .map((v) => `<p class="verdict">${esc(v)}</p>`)
        .join("");
      return `<div class="card"><h3>${esc(h.ruleId)} — ${h.nudges.nudged} nudged, ${h.nudges.heldOut} held out</h3>${chart}${verdicts}</div>`;
    })
    .join("");
}

const GRADE_COLORS: Record<string, string> = { A: COLORS.good, B: COLORS.good, C: COLORS.warn, D: COLORS.bad, F: COLORS.bad };

function healthSection(health: HealthSummary | undefined): string {
  if (health === undefined) {
    return `<p class="muted">The active rules have no <code>health</code> block: see docs/rules.md, "Health score".</p>`;
  }
  const bars = Object.entries(health.grades).map(([grade, count]) => ({ label: `grade ${grade}`, value: count, color: GRADE_COLORS[grade] ?? COLORS.primary }));
  const declined = health.declined.map((h) => {
    const [now, moved] = healthLines(h);
    return `<p class="verdict"><b>${esc(h.name)}</b> (${esc(h.externalId)}): ${esc(now ?? "")}<br><span class="muted">${esc(moved ?? "")}</span></p>`;
  });
  return `<div class="card">${barChart(bars, { label: "customers per health grade" })}
<p class="muted">${health.scored} of ${health.customers} active customers have a score; average ${health.average ?? "—"}.</p></div>
<div class="card"><h3>Fell ${DECLINE_POINTS}+ points in 30 days (${health.declinedCount})</h3>${declined.join("") || `<p class="muted">nobody</p>`}</div>`;
}

const pct1 = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Churn within the horizon per grade, as bars with Wilson whiskers: does a worse grade churn more? */
function calibrationSection(calibration: CalibrationReport | undefined, health: HealthSummary | undefined): string {
  if (health === undefined) return "";
  if (calibration === undefined) {
    return `<p class="muted">Does the score predict churn? <code>keepwarm report --calibrate</code> adds the check (it replays a year of history, so it is not run by default); <code>keepwarm health calibrate</code> prints it.</p>`;
  }
  const c = calibration;
  const chart = shareChart(
    c.grades.map((g) => ({
      label: `grade ${g.grade}`,
      color: GRADE_COLORS[g.grade] ?? COLORS.primary,
      bars: [{ share: g.churnRate, interval: g.interval, n: g.observations }],
    })),
    { label: `churn within ${c.horizonDays} days per health grade` },
  );
  const components = table(
    ["component", "fact", "AUC alone", "snapshots"],
    c.components.map((x) => [x.name, x.fact, aucText(x), x.observations]),
  );
  return `<div class="card"><h3>Calibration: churn within ${c.horizonDays} days, per grade</h3>${chart}
<p class="verdict">ROC AUC of the score ${esc(aucText(c.score))}: ${esc(aucVerdict(c.score))}.</p>
<p class="muted">${c.observations} scored customer-snapshots of ${c.customers} customers, every ${c.everyDays} days from ${esc(c.from)} to ${esc(c.to)}; ${c.churned} churned within ${c.horizonDays} days (${c.observations === 0 ? "—" : pct1(c.churned / c.observations)}). Whiskers: Wilson 95% intervals. AUC interval: bootstrap over customers (${c.resamples} resamples). A good score has churn falling from F to A.</p>
<h3>Which components carry the signal</h3>${components}</div>`;
}

/** The whole report as one self-contained HTML page: inline CSS and SVG, no network requests. */
export function renderReportHtml(data: ReportData): string {
  const s = data.stats;
  const title = `keepwarm report${s.segment === null ? "" : ` — ${s.segment}`}`;
  const npsPoints = s.nps.byMonth.map((m) => ({ label: m.month, value: m.nps }));
  const quietPoints = data.quietWeekly.map((q) => ({ label: q.label.slice(5), value: q.quiet }));
  const cadenceBars = s.touchCadence.buckets.map((b) => ({
    label: `${b.label} days`,
    value: b.count,
    color: b.label.startsWith("0") || b.label.startsWith("7") ? COLORS.good : b.label.startsWith("14") ? COLORS.warn : COLORS.bad,
  }));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(title)}</h1>
<p class="sub">${esc(s.from)} → ${esc(s.to)} (${s.days} days) · generated ${esc(new Date(data.generatedAt).toISOString().slice(0, 16).replace("T", " "))} UTC · days counted in ${esc(data.timeZone)}</p>
<div class="tiles">
${tile(percent(s.retention.total.retentionRate), `retention ((${s.retention.total.atEnd} at end − ${s.retention.total.new} new) ÷ ${s.retention.total.atStart} at start)`)}
${tile(String(s.retention.total.churned), `churned in the period (${percent(s.retention.total.churnRate)})`)}
${tile(s.nps.now.nps === null ? "—" : signed(s.nps.now.nps), `NPS now (${s.nps.now.responses} answers, last ${s.nps.windowDays} days)`)}
${tile(String(s.touchCadence.quiet), `quiet customers (no touch ≥ ${s.touchCadence.quietDays} days) of ${s.touchCadence.customers}`)}
${tile(percent(s.loyalty.enrollmentRate), `loyalty enrollment of ${s.loyalty.frequentBuyers} frequent buyers`)}
</div>

<h2>Customer health</h2>
${healthSection(data.health)}
${calibrationSection(data.calibration, data.health)}

<h2>Do the nudges work? Nudged vs held out</h2>
${holdoutSection(s.holdouts)}

<h2>NPS by month</h2>
<div class="card">${lineChart(npsPoints, { label: "NPS by month", min: -100, max: 100 })}
${table(
  ["month", "NPS", "answers", "promoters", "passives", "detractors"],
  s.nps.byMonth.map((m) => [m.month, m.nps === null ? "—" : signed(m.nps), m.responses, m.promoters, m.passives, m.detractors]),
)}</div>

<h2>Quiet customers</h2>
<div class="card">${lineChart(quietPoints, { label: "quiet customers per week", min: 0, color: COLORS.bad })}
<p class="muted">Customers whose last touch is ${s.touchCadence.quietDays}+ days old, at the end of each week of the period (only touches logged up to that day count).</p></div>
<div class="card"><h3>Days since last touch, now</h3>${barChart(cadenceBars, { label: "days since last touch" })}
<p class="muted">${s.touchCadence.neverTouched} customers were never touched (counted from their start date).</p></div>

<h2>Nudge funnel</h2>
${funnelSection(s.funnel)}

<h2>Noise: nudges nobody needed</h2>
${noiseSection(s.noise)}

<h2>Retention by segment</h2>
<div class="card">${table(
    ["segment", "at start (S)", "new (N)", "at end (E)", "churned", "retention (E − N) ÷ S"],
    [...s.retention.bySegment, s.retention.total].map((r) => [r.segment, r.atStart, r.new, r.atEnd, r.churned, percent(r.retentionRate)]),
  )}</div>

<h2>Touches per rep</h2>
<div class="card">${table(
    ["rep", "touches", "per week"],
    s.repActivity.reps.map((r) => [r.name, r.touches, r.perWeek]),
  )}<p class="muted">Over ${s.repActivity.weeksInPeriod} weeks.</p></div>

<p class="muted">Definitions: docs/kpis.md. Held-out customers match the rule but get no nudge, so the difference between the groups is what the nudges changed; intervals are 95% (Wilson for shares, Newcombe's hybrid score interval for differences), p-values from two-sided pooled z-tests.</p>
</main></body></html>
`;
}
