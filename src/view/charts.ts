// Small inline SVG charts (pure, no script): where a picture beats a table. Labels are
// data, so they go through the same escaping template as the rest of the page.
import { html, type SafeHtml } from "./html.ts";

export interface RateBar {
  label: string;
  /** 0..1, or null when nothing was judged. */
  rate: number | null;
  interval: [number, number] | null;
  note: string;
}

/** Horizontal bars of pass rates with their 95 % intervals as whiskers. */
export function rateChart(title: string, bars: RateBar[], id: string): SafeHtml {
  const labelW = 220;
  const plotW = 360;
  const rowH = 26;
  const h = bars.length * rowH + 34;
  const x = (v: number) => labelW + v * plotW;
  const rows = bars.map((b, i) => {
    const y = 20 + i * rowH;
    const bar = b.rate === null ? html`<text x="${x(0) + 4}" y="${y + 14}" fill="#606670">nothing judged</text>` : html`<rect x="${x(0)}" y="${y + 3}" width="${(b.rate * plotW).toFixed(1)}" height="${rowH - 10}" fill="#137333" opacity="0.8"><title>${b.label}: ${(b.rate * 100).toFixed(1)} %</title></rect>`;
    const ci = b.interval ? html`<line x1="${x(b.interval[0]).toFixed(1)}" x2="${x(b.interval[1]).toFixed(1)}" y1="${y + rowH / 2 - 2}" y2="${y + rowH / 2 - 2}" stroke="#1d1f23" stroke-width="2"/><line x1="${x(b.interval[0]).toFixed(1)}" x2="${x(b.interval[0]).toFixed(1)}" y1="${y + 5}" y2="${y + rowH - 9}" stroke="#1d1f23"/><line x1="${x(b.interval[1]).toFixed(1)}" x2="${x(b.interval[1]).toFixed(1)}" y1="${y + 5}" y2="${y + rowH - 9}" stroke="#1d1f23"/>` : "";
    return html`<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label}</text>${bar}${ci}<text x="${x(1) + 6}" y="${y + 15}" fill="#606670">${b.note}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => html`<line x1="${x(t)}" x2="${x(t)}" y1="16" y2="${h - 14}" stroke="#d9dce1"/><text x="${x(t)}" y="${h - 2}" text-anchor="middle" fill="#606670">${t * 100}%</text>`);
  return html`<figure><svg id="${id}" role="img" aria-label="${title}" width="${labelW + plotW + 170}" height="${h}" viewBox="0 0 ${labelW + plotW + 170} ${h}"><text x="0" y="12" font-weight="600">${title}</text>${ticks}${rows}</svg></figure>`;
}

export interface ValueBar {
  label: string;
  value: number;
  tone: "pass" | "fail" | "other";
}

/** Vertical bars of one measure per item (e.g. tokens or seconds per attempt), coloured by status. */
export function valueChart(title: string, unit: string, bars: ValueBar[], id: string): SafeHtml {
  if (bars.length === 0) return html``;
  const bw = Math.min(40, Math.max(6, 900 / bars.length));
  const w = Math.max(200, bars.length * bw + 60);
  const h = 180;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const colour = { pass: "#137333", fail: "#b3261e", other: "#8a5a00" };
  const rects = bars.map((b, i) => {
    const bh = (b.value / max) * (h - 50);
    return html`<rect x="${(50 + i * bw + 2).toFixed(1)}" y="${(h - 20 - bh).toFixed(1)}" width="${Math.max(2, bw - 4).toFixed(1)}" height="${bh.toFixed(1)}" fill="${colour[b.tone]}"><title>${b.label}: ${b.value.toLocaleString("en-US")} ${unit}</title></rect>`;
  });
  return html`<figure><svg id="${id}" role="img" aria-label="${title}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><text x="0" y="12" font-weight="600">${title}</text><text x="46" y="34" text-anchor="end" fill="#606670">${max.toLocaleString("en-US")}</text><text x="46" y="${h - 20}" text-anchor="end" fill="#606670">0</text><line x1="50" x2="${w - 10}" y1="${h - 20}" y2="${h - 20}" stroke="#d9dce1"/>${rects}</svg><figcaption class="muted">${unit}, one bar per attempt in schedule order (green pass, red fail, brown blocked or error); hover a bar for its attempt</figcaption></figure>`;
}
