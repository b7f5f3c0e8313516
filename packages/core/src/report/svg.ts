/** Small SVG chart primitives: no library, no network, text escaped. */

export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

const SVG_OPEN = (w: number, h: number, label: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(label)}" font-family="system-ui, sans-serif" font-size="12">`;
const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

export const COLORS = { primary: "#2563eb", muted: "#94a3b8", good: "#16a34a", bad: "#dc2626", warn: "#d97706", grid: "#e2e8f0", text: "#334155" };

export interface LinePoint {
  label: string;
  value: number | null;
}

/** A line chart with points and value labels; gaps where a value is null. */
export function lineChart(points: readonly LinePoint[], options: { label: string; min?: number; max?: number; color?: string; suffix?: string }): string {
  const w = 640;
  const h = 240;
  const pad = { l: 44, r: 36, t: 20, b: 36 };
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  if (values.length === 0) return `${SVG_OPEN(w, 60, options.label)}<text x="8" y="34" fill="${COLORS.muted}">no data in this period</text></svg>`;
  const min = Math.min(options.min ?? Math.min(...values), ...values);
  const max = Math.max(options.max ?? Math.max(...values), ...values);
  const span = max - min || 1;
  const x = (i: number) => pad.l + (points.length === 1 ? (w - pad.l - pad.r) / 2 : (i * (w - pad.l - pad.r)) / (points.length - 1));
  const y = (v: number) => pad.t + ((max - v) * (h - pad.t - pad.b)) / span;
  const parts = [SVG_OPEN(w, h, options.label)];
  for (const tick of [min, min + span / 2, max]) {
    parts.push(`<line x1="${pad.l}" x2="${w - pad.r}" y1="${fmt(y(tick))}" y2="${fmt(y(tick))}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${pad.l - 6}" y="${fmt(y(tick) + 4)}" text-anchor="end" fill="${COLORS.muted}">${fmt(tick)}</text>`);
  }
  let path = "";
  points.forEach((p, i) => {
    if (p.value === null) return;
    const prev = points[i - 1];
    path += `${path === "" || prev?.value === null ? "M" : "L"}${fmt(x(i))},${fmt(y(p.value))} `;
  });
  const color = options.color ?? COLORS.primary;
  parts.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
  // Crowded charts label every n-th point (and the last) so the labels never overlap.
  const every = Math.ceil(points.length / 10);
  const labelled = (i: number) => (i === points.length - 1 ? true : i % every === 0 && points.length - 1 - i >= every / 2);
  points.forEach((p, i) => {
    if (labelled(i)) {
      parts.push(`<text x="${fmt(x(i))}" y="${h - pad.b + 18}" text-anchor="middle" fill="${COLORS.text}">${escapeXml(p.label)}</text>`);
    }
    if (p.value === null) return;
    parts.push(`<circle cx="${fmt(x(i))}" cy="${fmt(y(p.value))}" r="3.5" fill="${color}"/>`);
    if (labelled(i))
      parts.push(
        `<text x="${fmt(x(i))}" y="${fmt(y(p.value) - 8)}" text-anchor="middle" fill="${COLORS.text}" font-weight="600">${fmt(p.value)}${options.suffix ?? ""}</text>`,
      );
  });
  parts.push("</svg>");
  return parts.join("");
}

export interface Bar {
  label: string;
  value: number;
  color?: string;
  note?: string;
}

/** Horizontal bars, each with its value: funnels and distributions read well this way. */
export function barChart(bars: readonly Bar[], options: { label: string; max?: number }): string {
  const w = 640;
  const row = 28;
  const labelW = 170;
  const h = Math.max(1, bars.length) * row + 8;
  const max = Math.max(options.max ?? 0, ...bars.map((b) => b.value), 1);
  const parts = [SVG_OPEN(w, h, options.label)];
  bars.forEach((b, i) => {
    const y = 4 + i * row;
    const len = ((w - labelW - 90) * b.value) / max;
    parts.push(`<text x="${labelW - 8}" y="${y + 18}" text-anchor="end" fill="${COLORS.text}">${escapeXml(b.label)}</text>`);
    parts.push(
      `<rect x="${labelW}" y="${y + 4}" width="${fmt(Math.max(len, b.value > 0 ? 2 : 0))}" height="${row - 8}" rx="3" fill="${b.color ?? COLORS.primary}"/>`,
    );
    parts.push(
      `<text x="${fmt(labelW + len + 6)}" y="${y + 18}" fill="${COLORS.text}" font-weight="600">${escapeXml(`${fmt(b.value)}${b.note ?? ""}`)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

export interface ShareBar {
  share: number | null;
  interval: [number, number] | null;
  n: number;
}

export interface PairedShare {
  label: string;
  a: ShareBar;
  b: ShareBar;
}

/** Two bars per metric (nudged vs held out) as percentages, with 95% interval whiskers. */
export function pairedShareChart(metrics: readonly PairedShare[], options: { label: string; names: [string, string] }): string {
  return shareChart(
    metrics.map((m) => ({ label: m.label, bars: [m.a, m.b] })),
    { label: options.label, legend: options.names.map((name, i) => ({ name, color: i === 0 ? COLORS.primary : COLORS.muted })) },
  );
}

/**
 * Shares as vertical bars in percent, grouped under labels, each with its 95 % interval
 * as a whisker and its n below. A bar's color is its legend entry's (by position in its
 * group), or the group's own color when there is no legend.
 */
export function shareChart(
  groups: ReadonlyArray<{ label: string; bars: readonly ShareBar[]; color?: string }>,
  options: { label: string; legend?: ReadonlyArray<{ name: string; color: string }> },
): string {
  const w = 640;
  const h = 250;
  const pad = { l: 40, r: 16, t: 28, b: 40 };
  const groupW = (w - pad.l - pad.r) / Math.max(1, groups.length);
  const perGroup = Math.max(1, ...groups.map((g) => g.bars.length));
  const barW = Math.min(56, groupW / (perGroup + 1));
  const y = (share: number) => pad.t + (1 - share) * (h - pad.t - pad.b);
  const parts = [SVG_OPEN(w, h, options.label)];
  for (const tick of [0, 0.5, 1]) {
    parts.push(`<line x1="${pad.l}" x2="${w - pad.r}" y1="${fmt(y(tick))}" y2="${fmt(y(tick))}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${pad.l - 6}" y="${fmt(y(tick) + 4)}" text-anchor="end" fill="${COLORS.muted}">${tick * 100}%</text>`);
  }
  (options.legend ?? []).forEach(({ name, color }, i) => {
    parts.push(
      `<rect x="${pad.l + i * 120}" y="6" width="12" height="12" fill="${color}"/><text x="${pad.l + i * 120 + 16}" y="16" fill="${COLORS.text}">${escapeXml(name)}</text>`,
    );
  });
  groups.forEach((group, i) => {
    const cx = pad.l + groupW * i + groupW / 2;
    const left = cx - (group.bars.length * (barW + 4) - 4) / 2;
    group.bars.forEach((g, j) => {
      const x = left + j * (barW + 4);
      const color = options.legend?.[j]?.color ?? group.color ?? COLORS.primary;
      if (g.share === null) {
        parts.push(`<text x="${fmt(x + barW / 2)}" y="${fmt(y(0) - 6)}" text-anchor="middle" fill="${COLORS.muted}">n=0</text>`);
        return;
      }
      parts.push(`<rect x="${fmt(x)}" y="${fmt(y(g.share))}" width="${fmt(barW)}" height="${fmt(y(0) - y(g.share))}" fill="${color}"/>`);
      if (g.interval !== null) {
        const mid = x + barW / 2;
        parts.push(
          `<line x1="${fmt(mid)}" x2="${fmt(mid)}" y1="${fmt(y(g.interval[0]))}" y2="${fmt(y(g.interval[1]))}" stroke="${COLORS.text}" stroke-width="1.5"/>`,
        );
        for (const end of g.interval)
          parts.push(`<line x1="${fmt(mid - 5)}" x2="${fmt(mid + 5)}" y1="${fmt(y(end))}" y2="${fmt(y(end))}" stroke="${COLORS.text}" stroke-width="1.5"/>`);
      }
      parts.push(
        `<text x="${fmt(x + barW / 2)}" y="${fmt(y(g.share) - 4 - (g.interval === null ? 0 : y(g.share) - y(g.interval[1])))}" text-anchor="middle" fill="${COLORS.text}" font-weight="600">${Math.round(g.share * 100)}%</text>`,
      );
      parts.push(`<text x="${fmt(x + barW / 2)}" y="${h - pad.b + 30}" text-anchor="middle" fill="${COLORS.muted}" font-size="10">n=${g.n}</text>`);
    });
    parts.push(`<text x="${fmt(cx)}" y="${h - pad.b + 16}" text-anchor="middle" fill="${COLORS.text}">${escapeXml(group.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}
